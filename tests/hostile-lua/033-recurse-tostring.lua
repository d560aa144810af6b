local m = {}
m.__tostring = function(t) return tostring(t) end --!
local x = tostring(setmetatable({}, m))
