register_route_handlers({ "mine" })
function route_mine_conf(t, ctx) local a = "a:11211" for i = 1, 40 do a = { a, a } end return { children = a } end
pools { main = { backends = { "a:11211" } } }
routes { default = route_mine { child = "main" } } --!
