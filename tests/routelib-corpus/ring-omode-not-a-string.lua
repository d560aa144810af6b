-- omode must be a string.
-- expect: refuses
-- mclint: error:proxy-option-invalid
pools {
    main = {
        options = { dist = mcp.dist_ring_hash, omode = 1 },
        backends = { "127.0.0.1:41001", "127.0.0.1:41002" },
    },
}
routes { default = route_direct { child = "main" } }
