-- route_null for a prefix.
-- expect: loads
-- mclint: clean
-- answer: END
-- answer: END
-- request: get drop/x
-- request: get y
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes {
    map = { drop = route_null {} },
    cmap = { get = route_direct { child = "a" } },
    default = route_direct { child = "b" },
}
