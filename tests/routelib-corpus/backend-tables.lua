-- Backends as tables with per-backend options.
-- expect: loads
-- mclint: clean
pools {
    main = {
        backend_options = { connecttimeout = 2 },
        backends = {
            { host = "127.0.0.1", port = 41001, label = "first" },
            { host = "127.0.0.1", port = "41002", readtimeout = 1 },
        },
    },
}
routes { default = route_direct { child = "main" } }
