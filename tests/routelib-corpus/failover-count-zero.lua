-- failover_count = 0: route_failover tries no child.
-- expect: loads
-- mclint: error:route-argument-type
-- answer: SERVER_ERROR
-- answer: SERVER_ERROR
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes { default = route_failover { children = { "a", "b" }, failover_count = 0 } }
