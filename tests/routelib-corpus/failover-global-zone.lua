-- route_failover ignores the global local_zone.
-- expect: loads
-- mclint: finding:route-failover-global-zone
local_zone("east")
pools {
    set_z = {
        east = { backends = { "127.0.0.1:41001" } },
        west = { backends = { "127.0.0.1:41002" } },
    },
}
routes { default = route_failover { children = "set_z" } }
