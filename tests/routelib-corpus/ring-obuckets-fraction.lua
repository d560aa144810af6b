-- obuckets = 2.5 has no integer value.
-- expect: refuses
-- mclint: error:proxy-option-invalid
pools {
    main = {
        options = { dist = mcp.dist_ring_hash, omode = "ketama", obuckets = 2.5 },
        backends = { "127.0.0.1:41001", "127.0.0.1:41002" },
    },
}
routes { default = route_direct { child = "main" } }
