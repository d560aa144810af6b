-- failover_count = 1 never fails over.
-- expect: loads
-- mclint: finding:route-failover-count-one
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes { default = route_failover { children = { "a", "b" }, failover_count = 1 } }
