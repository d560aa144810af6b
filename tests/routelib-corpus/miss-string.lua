-- miss given a string never enables miss failover.
-- expect: loads
-- mclint: error:route-argument-type
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes { default = route_failover { children = { "a", "b" }, miss = "true" } }
