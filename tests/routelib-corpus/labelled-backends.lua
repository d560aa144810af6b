-- Backends with labels.
-- expect: loads
-- mclint: clean
pools {
    main = { backends = { "127.0.0.1:41001 east", "127.0.0.1:41002 west" } },
}
routes { default = route_direct { child = "main" } }
