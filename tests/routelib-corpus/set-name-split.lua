-- set_my_cache is read as set set_my, zone cache.
-- expect: refuses
-- mclint: error:proxy-set-name
pools {
    set_my_cache = {
        east = { backends = { "127.0.0.1:41001" } },
        west = { backends = { "127.0.0.1:41002" } },
    },
}
routes { default = route_allsync { children = "set_my_cache" } }
