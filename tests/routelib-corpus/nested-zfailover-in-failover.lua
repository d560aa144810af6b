-- route_zfailover (global zone) nested in route_failover with a backup pool.
-- expect: loads
-- mclint: clean
-- request: set k 0 0 1\r\nx
-- request: get k
-- answer: STORED
-- answer: VALUE
-- placed: k 41002
local_zone("west")
pools {
    set_z = {
        east = { backends = { "127.0.0.1:41001" } },
        west = { backends = { "127.0.0.1:41002" } },
    },
    backup = { backends = { "127.0.0.1:41003" } },
}
routes { default = route_failover { children = { route_zfailover { children = "set_z" }, "backup" } } }
