-- A misspelt pool name.
-- expect: refuses
-- mclint: error:route-unknown-pool
pools {
    main = { backends = { "127.0.0.1:41001", "127.0.0.1:41002", "127.0.0.1:41003" } },
}
routes { default = route_direct { child = "mian" } }
