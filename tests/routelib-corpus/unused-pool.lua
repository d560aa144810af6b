-- Pool b is never used.
-- expect: loads
-- mclint: finding:proxy-unused-pool
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes { default = route_direct { child = "a" } }
