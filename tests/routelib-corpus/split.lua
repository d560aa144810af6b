-- route_split: answer from child_a, copy to child_b.
-- expect: loads
-- mclint: clean
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes {
    default = route_split { child_a = "a", child_b = "b" },
}
