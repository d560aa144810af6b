local s = string.rep("x", 2^24)
local t = {}
for i = 1, 2000 do t[i] = s end
pools { q = { backends = t } } --!
routes { default = route_direct { child = "q" } }
