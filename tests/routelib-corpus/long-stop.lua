-- Prefix map with a two-character stop.
-- expect: loads
-- mclint: clean
-- request: get app::k
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes {
    conf = { mode = "prefix", stop = "::" },
    map = { app = route_direct { child = "a" } },
    default = route_direct { child = "b" },
}
