local m = { __eq = function() while true do end end } --!
local a, b = setmetatable({}, m), setmetatable({}, m)
local x = a == b
