-- A backend named by two pools holds one copy of what either wrote: a read
-- that fails over to pool b finds keys a set placed on 41002.
-- expect: loads
-- mclint: clean
pools {
    a = { backends = { "127.0.0.1:41001", "127.0.0.1:41002" } },
    b = { backends = { "127.0.0.1:41002" } },
    c = { backends = { "127.0.0.1:41003" } },
}
routes {
    cmap = {
        set = route_direct { child = "a" },
        get = route_failover { children = { "c", "b" } },
    },
    default = route_direct { child = "a" },
}
