local t = {}
for i = 1, 1e6 do t[i] = 65 end
local x = utf8.char(table.unpack(t)) --!
