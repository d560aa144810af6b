-- Two seeded copies: reads take the fastest, writes go to both.
-- expect: loads
-- mclint: finding:route-allsync-unordered
pools {
    set_copies = {
        a = { options = { seed = "a" }, backends = { "127.0.0.1:41001", "127.0.0.1:41002" } },
        b = { options = { seed = "b" }, backends = { "127.0.0.1:41002", "127.0.0.1:41003" } },
    },
}
routes {
    cmap = { get = route_allfastest { children = "set_copies" } },
    default = route_allsync { children = "set_copies" },
}
