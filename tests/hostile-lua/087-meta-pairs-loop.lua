pools(setmetatable({}, { __pairs = function() while true do end end })) --!
