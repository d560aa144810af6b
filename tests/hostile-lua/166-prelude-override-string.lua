string.sub = function() while true do end end --!
local x = route_nonexistent
