-- Anchored prefixes: /app/key.
-- expect: loads
-- mclint: clean
-- request: get /app/k
-- request: get k
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes {
    conf = { mode = "anchor", start = "/", stop = "/" },
    map = { app = route_direct { child = "a" } },
    default = route_direct { child = "b" },
}
