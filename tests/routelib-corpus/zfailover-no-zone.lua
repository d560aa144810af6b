-- route_zfailover and no zone anywhere.
-- expect: refuses
-- mclint: error:route-zfailover-without-zone
pools {
    set_z = {
        east = { backends = { "127.0.0.1:41001" } },
        west = { backends = { "127.0.0.1:41002" } },
    },
}
routes { default = route_zfailover { children = "set_z" } }
