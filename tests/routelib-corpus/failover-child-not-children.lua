-- route_failover given child (the route_direct argument) instead of children.
-- expect: refuses
-- mclint: error:route-missing-argument
pools {
    a = { backends = { "127.0.0.1:41001" } },
}
routes { default = route_failover { child = "a" } }
