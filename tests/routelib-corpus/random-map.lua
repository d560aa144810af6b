-- route_random over a map of children.
-- expect: loads
-- mclint: clean
-- request: get k
-- answer: END
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes { default = route_random { children = { x = "a", y = "b" } } }
