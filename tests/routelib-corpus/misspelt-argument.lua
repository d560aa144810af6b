-- failover_cout is ignored.
-- expect: loads
-- mclint: finding:route-unknown-argument
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes { default = route_failover { children = { "a", "b" }, failover_cout = 2 } }
