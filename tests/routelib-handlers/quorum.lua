-- down: 0
pools {
    p1 = { backends = { "{b0}", "{b1}" } },
    p2 = { backends = { "{b2}", "{b3}" } },
    p3 = { backends = { "{b0}", "{b4}", "{b5}" } },
}
routes { default = route_quorum { children = { "p1", "p2", "p3" }, need = 3 } }
