pools { q = { backends = { "10.0.0.1:11211" } } }
local r = route_direct { child = "q" }
for i = 1, 60 do r = route_failover { children = { r, r } } end
routes { default = r } --!
