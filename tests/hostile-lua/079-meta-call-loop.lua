local f = setmetatable({}, { __call = function() while true do end end }) --!
f()
