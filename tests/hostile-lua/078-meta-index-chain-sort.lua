local t = {}
for i = 1, 1900 do t = setmetatable({}, { __index = t }) end
rawset(t, 1e6, 1)
local x = table.concat(t, ",", 1, 1e6) --!
