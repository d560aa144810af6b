-- down: 1
pools { main = { backends = { "{b0}", "{b1}", "{b2}", "{b3}" } } }
routes { default = route_refuse { child = "main" } }
