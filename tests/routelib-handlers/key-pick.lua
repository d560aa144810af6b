-- down: 7
pools {
    x = { backends = { "{b7}" } },
    y = { backends = { "{b1}", "{b2}" } },
    z = { backends = { "{b3}", "{b7}", "{b0}" } },
}
routes { default = route_keypick { children = { "x", "y", "z" } } }
