-- route_zfailover with its own local_zone argument.
-- expect: loads
-- mclint: clean
pools {
    set_z = {
        east = { backends = { "127.0.0.1:41001" } },
        west = { backends = { "127.0.0.1:41002" } },
    },
}
routes {
    default = route_zfailover { children = "set_z", local_zone = "west", miss = false },
}
