-- route_ttl under a get command.
-- expect: refuses
-- mclint: error:proxy-refused
pools {
    main = { backends = { "127.0.0.1:41001", "127.0.0.1:41002", "127.0.0.1:41003" } },
}
routes {
    cmap = { get = route_ttl { ttl = 5, child = "main" } },
    default = route_direct { child = "main" },
}
