-- route_zfailover whose local zone names no child: the near child is nil.
-- expect: loads
-- mclint: error:route-zfailover-without-zone
-- answer: SERVER_ERROR lua failure
-- answer: SERVER_ERROR lua failure
local_zone("north")
pools {
    set_z = {
        east = { backends = { "127.0.0.1:41001" } },
        west = { backends = { "127.0.0.1:41002" } },
    },
}
routes { default = route_zfailover { children = "set_z" } }
