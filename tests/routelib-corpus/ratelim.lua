-- Rate limit in front of a pool.
-- expect: loads
-- mclint: finding:route-ratelim-limited-error
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes {
    default = route_ratelim { child = "a", limit = 1000, fillrate = 100, tickrate = 1000 },
}
-- b is used below so that no pool is unused
routes { tag = "other", default = route_direct { child = "b" } }
