local m = { __lt = function() while true do end end } --!
local t = {}
for i = 1, 10 do t[i] = setmetatable({}, m) end
table.sort(t)
