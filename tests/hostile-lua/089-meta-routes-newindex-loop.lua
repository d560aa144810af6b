routes(setmetatable({}, { __newindex = function() while true do end end })) --!
