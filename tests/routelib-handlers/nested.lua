-- down: 2
pools {
    a = { backends = { "{b1}", "{b2}" } },
    b = { backends = { "{b3}", "{b4}" } },
    c = { backends = { "{b2}", "{b6}" } },
}
routes {
    default = route_chain { children = {
        route_failover { children = { "a", "b" } },
        route_direct { child = "c" },
    } },
}
