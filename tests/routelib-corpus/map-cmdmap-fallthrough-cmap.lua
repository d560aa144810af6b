-- A map entry's cmdmap without the command: the router's cmap comes before default.
-- expect: loads
-- mclint: clean
-- request: set user/1 0 0 1\r\nx
-- answer: STORED
-- placed: user/1 41003
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
    c = { backends = { "127.0.0.1:41003" } },
}
routes {
    map = { user = cmdmap { get = route_direct { child = "a" } } },
    cmap = { set = route_direct { child = "c" } },
    default = route_direct { child = "b" },
}
