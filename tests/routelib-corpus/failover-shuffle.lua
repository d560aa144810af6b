-- route_failover with every option: shuffle, failover_count, stats, wait.
-- expect: loads
-- mclint: clean
-- request: get k
-- answer: END
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes {
    default = route_failover {
        children = { "a", "b" }, shuffle = true, failover_count = 2,
        miss = true, stats = true, stats_name = "fo", wait = 0.5,
    },
}
