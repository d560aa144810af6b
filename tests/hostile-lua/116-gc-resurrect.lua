local keep
setmetatable({}, { __gc = function(o) keep = o setmetatable(o, getmetatable(o)) end }) --!
