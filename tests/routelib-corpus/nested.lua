-- Routes nested in routes.
-- expect: loads
-- mclint: clean
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes {
    default = route_failover {
        children = {
            route_allsync { children = { "a", "b" } },
            route_direct { child = "b" },
        },
    },
}
