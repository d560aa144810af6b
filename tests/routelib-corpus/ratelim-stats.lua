-- route_ratelim with stats hits an undefined ctx in 1.6.38.
-- expect: refuses
-- mclint: error:proxy-refused
pools {
    main = { backends = { "127.0.0.1:41001", "127.0.0.1:41002", "127.0.0.1:41003" } },
}
routes { default = route_ratelim { child = "main", limit = 10, fillrate = 1, stats = true } }
