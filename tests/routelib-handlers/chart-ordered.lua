-- down: 0
-- lib: chart
-- The chart's route_ordered: the first child's answer, every child written.
pools {
    main = { backends = { "{b0}", "{b1}", "{b2}" } },
    copy = { options = { seed = "copy" }, backends = { "{b3}", "{b4}" } },
}
routes {
    cmap = {
        set = route_ordered { children = { "main", route_ttl { ttl = 30, child = "copy" } } },
    },
    default = route_failover { children = { "main", "copy" }, miss = true },
}
