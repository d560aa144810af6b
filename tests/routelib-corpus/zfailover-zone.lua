-- route_zfailover with a global local zone that names a zone of the set.
-- expect: loads
-- mclint: clean
local_zone("east")
pools {
    set_z = {
        east = { backends = { "127.0.0.1:41001" } },
        west = { backends = { "127.0.0.1:41002" } },
    },
}
routes {
    default = route_zfailover { children = "set_z" },
}
