-- Global settings and pool_options.
-- expect: loads
-- mclint: clean
settings {
    backend_connect_timeout = 3,
    backend_retry_waittime = 1,
    tcp_keepalive = true,
    active_req_limit = 1000,
    pool_options = { seed = "global" },
}
pools {
    main = { backends = { "127.0.0.1:41001", "127.0.0.1:41002", "127.0.0.1:41003" } },
}
routes { default = route_direct { child = "main" } }
