-- route_allasync is defined but not registered in 1.6.38.
-- expect: refuses
-- mclint: error:route-allasync
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes { default = route_allasync { children = { "a", "b" } } }
