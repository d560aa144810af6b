-- A cmap route without child refuses the whole config.
-- expect: refuses
-- mclint: error:route-missing-argument
pools {
    main = { backends = { "127.0.0.1:41001" } },
}
routes {
    cmap = { get = route_direct {} },
    default = route_direct { child = "main" },
}
