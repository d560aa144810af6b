-- A map entry's cmdmap without the command: the request falls to default.
-- expect: loads
-- mclint: clean
-- request: set user/1 0 0 1\r\nx
-- request: get user/1
-- answer: STORED
-- answer: END
-- placed: user/1 41002
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes {
    map = { user = cmdmap { get = route_direct { child = "a" } } },
    default = route_direct { child = "b" },
}
