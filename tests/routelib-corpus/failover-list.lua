-- route_failover over an ordered list of pools.
-- expect: loads
-- mclint: clean
-- answer: STORED
-- answer: VALUE corpus/key
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes {
    default = route_failover { children = { "a", "b" }, failover_count = 2, miss = true },
}
