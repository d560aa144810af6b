-- route_zfailover given a list of zones instead of the set: routelib looks
-- the local zone up by key, finds no near child, and every request fails.
-- expect: loads
-- mclint: error:route-zfailover-without-zone
-- request: set k 0 0 1\r\nx
-- request: get k
-- answer: SERVER_ERROR
-- answer: SERVER_ERROR
local_zone("east")
pools {
    set_z = {
        east = { backends = { "127.0.0.1:41001" } },
        west = { backends = { "127.0.0.1:41002" } },
    },
}
routes { default = route_zfailover { children = { "set_z_east", "set_z_west" } } }
