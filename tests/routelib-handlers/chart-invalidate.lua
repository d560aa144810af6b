-- down: 3
-- lib: chart
-- The chart's route_invalidate: write to main, then delete the key from copy.
pools {
    main = { backends = { "{b0}", "{b1}", "{b2}" } },
    copy = { backends = { "{b3}", "{b4}" } },
}
routes {
    cmap = {
        set = route_invalidate { child = "main", child_invalidate = { "copy" } },
    },
    default = route_direct { child = "main" },
}
