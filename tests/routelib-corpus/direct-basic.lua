-- One sharded pool behind route_direct.
-- expect: loads
-- mclint: clean
-- answer: STORED
-- answer: VALUE corpus/key
pools {
    main = { backends = { "127.0.0.1:41001", "127.0.0.1:41002", "127.0.0.1:41003" } },
}
routes {
    default = route_direct { child = "main" },
}
