-- Two unseeded copies.
-- expect: loads
-- mclint: finding:proxy-same-seed
pools {
    set_copies = {
        a = { backends = { "127.0.0.1:41001", "127.0.0.1:41002" } },
        b = { backends = { "127.0.0.1:41002", "127.0.0.1:41003" } },
    },
}
routes { default = route_allsync { children = "set_copies" } }
