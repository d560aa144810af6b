-- down: 1
pools {
    a = { backends = { "{b0}", "{b1}" } },
    b = { backends = { "{b2}", "{b3}", "{b4}" } },
    c = { options = { seed = "c" }, backends = { "{b5}", "{b1}" } },
}
routes { default = route_firsthit { children = { "a", "b", "c" } } }
