-- route_ratelim without fillrate.
-- expect: refuses
-- mclint: error:proxy-refused
pools {
    main = { backends = { "127.0.0.1:41001", "127.0.0.1:41002", "127.0.0.1:41003" } },
}
routes { default = route_ratelim { child = "main", limit = 10 } }
