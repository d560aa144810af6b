-- route_zfailover with stats and miss = true: a write lands in the local zone
-- only; the stats counter is registered but never counts in 1.6.38.
-- expect: loads
-- mclint: finding:route-zfailover-stats
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
