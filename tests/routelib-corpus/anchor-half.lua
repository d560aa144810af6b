-- Anchor mode with start but no stop.
-- expect: refuses
-- mclint: error:proxy-refused
pools {
    main = { backends = { "127.0.0.1:41001", "127.0.0.1:41002", "127.0.0.1:41003" } },
}
routes {
    conf = { mode = "anchor", start = "/" },
    map = { a = route_direct { child = "main" } },
    default = route_direct { child = "main" },
}
