-- route_allfastest waiting for a hit (miss = true) at most 0.5 s.
-- expect: loads
-- mclint: clean
-- request: set k 0 0 1\r\nx
-- request: get k
-- answer: STORED
-- answer: VALUE
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes {
    cmap = { get = route_allfastest { children = { "a", "b" }, miss = true, wait = 0.5 } },
    default = route_allsync { children = { "a", "b" } },
}
