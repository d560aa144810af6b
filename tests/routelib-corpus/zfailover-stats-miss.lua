-- route_zfailover with stats and miss = true: a write lands in the local zone only.
-- expect: loads
-- mclint: clean
-- request: set k 0 0 1\r\nx
-- request: get k
-- answer: STORED
-- answer: VALUE
-- placed: k 41001
local_zone("east")
pools {
    set_z = {
        east = { backends = { "127.0.0.1:41001" } },
        west = { backends = { "127.0.0.1:41002" } },
    },
}
routes { default = route_zfailover { children = "set_z", stats = true, stats_name = "z", miss = true } }
