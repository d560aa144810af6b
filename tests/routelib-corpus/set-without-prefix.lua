-- A set whose name lacks set_.
-- expect: refuses
-- mclint: error:proxy-set-name
pools {
    zones = {
        east = { backends = { "127.0.0.1:41001" } },
        west = { backends = { "127.0.0.1:41002" } },
    },
}
routes { default = route_direct { child = "zones" } }
