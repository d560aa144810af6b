local f = setmetatable({}, { __call = function(self) return self() end }) --!
f()
