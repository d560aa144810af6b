-- A zone the set does not have.
-- expect: refuses
-- mclint: error:route-unknown-pool
pools {
    set_z = {
        east = { backends = { "127.0.0.1:41001" } },
        west = { backends = { "127.0.0.1:41002" } },
    },
}
routes { default = route_direct { child = "set_z_north" } }
