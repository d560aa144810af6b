-- map and cmap but no default: unmapped keys fail for commands the cmap lacks.
-- expect: loads
-- mclint: finding:route-unhandled-command
-- request: set user/1 0 0 1\r\nx
-- request: set other 0 0 1\r\nx
-- request: get other
-- answer: STORED
-- answer: STORED
-- answer: SERVER_ERROR lua start failure
-- placed: user/1 41001
-- placed: other 41002
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes {
    map = { user = route_direct { child = "a" } },
    cmap = { set = route_direct { child = "b" } },
}
