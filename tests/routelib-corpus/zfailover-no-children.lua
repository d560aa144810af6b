-- route_zfailover with a zone but no children: its _conf takes #children.
-- expect: refuses
-- mclint: error:route-missing-argument
local_zone("east")
pools {
    set_z = {
        east = { backends = { "127.0.0.1:41001" } },
        west = { backends = { "127.0.0.1:41002" } },
    },
}
routes { default = route_zfailover {} }
