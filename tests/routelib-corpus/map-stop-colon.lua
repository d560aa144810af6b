-- Prefix mode with its own stop character.
-- expect: loads
-- mclint: clean
-- request: set user:1 0 0 1\r\nx
-- request: set user/1 0 0 1\r\nx
-- placed: user:1 41001
-- placed: user/1 41002
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes {
    conf = { mode = "prefix", stop = ":" },
    map = { user = route_direct { child = "a" } },
    default = route_direct { child = "b" },
}
