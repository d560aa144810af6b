-- route_zfailover ignores failover_count: a get that misses in the local zone
-- (east) still reaches the other zones, so the value set in west is found.
-- expect: loads
-- mclint: finding:route-unknown-argument
-- request: set zf 0 0 1\r\nx
-- request: get zf
-- answer: STORED
-- answer: VALUE
-- placed: zf 41002
pools {
    set_z = {
        east = { backends = { "127.0.0.1:41001" } },
        west = { backends = { "127.0.0.1:41002" } },
        south = { backends = { "127.0.0.1:41003" } },
    },
}
routes {
    cmap = {
        set = route_zfailover { children = "set_z", local_zone = "west" },
        get = route_zfailover { children = "set_z", local_zone = "east", failover_count = 1 },
    },
    default = route_null {},
}
