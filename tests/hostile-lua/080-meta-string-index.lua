getmetatable("").__index = function() while true do end end --!
local x = ("a").foo
