local t = {}
for i = 1, 1900 do t = setmetatable({}, { __index = t }) end
local x = table.move(t, 1, 1e9, 1, {}) --!
