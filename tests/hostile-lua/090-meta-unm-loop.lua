local t = setmetatable({}, { __unm = function() while true do end end }) --!
local x = -t
