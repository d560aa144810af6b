register_route_handlers({ "spin" })
function route_spin_conf(t, ctx) while true do end end --!
pools { main = { backends = { "a:11211" } } }
routes { default = route_spin { child = "main" } }
