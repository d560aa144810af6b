local t = setmetatable({}, { __concat = function() while true do end end }) --!
local x = t .. "a"
