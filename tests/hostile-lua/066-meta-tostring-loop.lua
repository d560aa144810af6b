local t = setmetatable({}, { __tostring = function() while true do end end }) --!
local x = tostring(t)
