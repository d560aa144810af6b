-- route_random without children.
-- expect: refuses
-- mclint: error:route-missing-argument
pools {
    a = { backends = { "127.0.0.1:41001" } },
}
routes { default = route_random {} }
