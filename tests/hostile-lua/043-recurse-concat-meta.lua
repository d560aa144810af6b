local m = {}
m.__concat = function(a, b) return a .. b end --!
local x = setmetatable({}, m) .. "a"
