-- down: 5
pools {
    p = { backends = { "{b5}", "{b6}" } },
    q = { backends = { "{b7}", "{b4}" } },
    s = { backends = { "{b1}" } },
}
routes { default = route_tries { children = { "p", "q", "s" }, tries = 2 } }
