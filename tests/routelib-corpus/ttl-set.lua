-- route_ttl rewriting the TTL of sets.
-- expect: loads
-- mclint: clean
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes {
    cmap = {
        set = route_ttl { ttl = 30, child = "a" },
        get = route_direct { child = "a" },
    },
    default = route_direct { child = "b" },
}
