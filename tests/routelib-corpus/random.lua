-- route_random over two pools.
-- expect: loads
-- mclint: clean
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes {
    default = route_random { children = { "a", "b" } },
}
