register_route_handlers({ "grow" })
function route_grow_conf(t, ctx) local s = "x" while true do s = s .. s end end --!
pools { main = { backends = { "a:11211" } } }
routes { default = route_grow { child = "main" } }
