-- Prefix map with the default stop character.
-- expect: loads
-- mclint: clean
-- request: get sess/one
-- request: get other
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes {
    map = {
        sess = route_direct { child = "a" },
    },
    default = route_direct { child = "b" },
}
