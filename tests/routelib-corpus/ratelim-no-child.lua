-- route_ratelim with limit and fillrate but no child.
-- expect: refuses
-- mclint: error:route-missing-argument
pools {
    a = { backends = { "127.0.0.1:41001" } },
}
routes { default = route_ratelim { limit = 10, fillrate = 5 } }
