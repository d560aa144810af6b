for i = 1, 1e6 do setmetatable({}, { __gc = function() end }) end --!
