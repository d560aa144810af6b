-- route_split whose copy goes to a nested allsync: a write reaches all three.
-- expect: loads
-- mclint: clean
-- request: set k 0 0 1\r\nx
-- request: get k
-- answer: STORED
-- answer: VALUE
-- placed: k 41001 41002 41003
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
    c = { backends = { "127.0.0.1:41003" } },
}
routes { default = route_split { child_a = "a", child_b = route_allsync { children = { "b", "c" } } } }
