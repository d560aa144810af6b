-- route_ttl with a ttl but no child.
-- expect: refuses
-- mclint: error:route-missing-argument
pools {
    a = { backends = { "127.0.0.1:41001" } },
}
routes {
    cmap = { set = route_ttl { ttl = 30 } },
    default = route_direct { child = "a" },
}
