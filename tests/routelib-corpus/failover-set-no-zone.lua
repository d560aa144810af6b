-- route_failover over a set with no zone at all.
-- expect: loads
-- mclint: finding:route-zoned-set-without-zone
pools {
    set_z = {
        east = { backends = { "127.0.0.1:41001" } },
        west = { backends = { "127.0.0.1:41002" } },
    },
}
routes { default = route_failover { children = "set_z" } }
