-- down: 2
pools {
    left = { backends = { "{b0}", "{b1}", "{b2}" } },
    right = { options = { seed = "r" }, backends = { "{b2}", "{b3}", "{b6}" } },
}
routes { default = route_best { children = { "left", "right" } } }
