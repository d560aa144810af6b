local t = setmetatable({}, { __len = function() while true do end end }) --!
local x = #t
