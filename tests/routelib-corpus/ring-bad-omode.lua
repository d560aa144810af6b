-- mcp.dist_ring_hash refuses an omode it does not know.
-- expect: refuses
-- mclint: error:proxy-option-invalid
pools {
    main = {
        options = { dist = mcp.dist_ring_hash, omode = "libketama" },
        backends = { "127.0.0.1:41001", "127.0.0.1:41002" },
    },
}
routes { default = route_direct { child = "main" } }
