register_route_handlers({ "mine" })
function route_mine_conf(t, ctx) return t end
pools { main = { backends = { "a:11211" } } }
local r = route_mine { child = "main" }
for i = 1, 50 do r = route_mine { children = { r, r } } end
routes { default = r } --!
