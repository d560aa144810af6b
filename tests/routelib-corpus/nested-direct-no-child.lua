-- A route without child inside a failover list.
-- expect: refuses
-- mclint: error:route-missing-argument
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes { default = route_failover { children = { route_direct {}, "b" } } }
