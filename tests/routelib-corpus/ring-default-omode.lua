-- mcp.dist_ring_hash without omode loads, but 1.6.38 fills one point of the
-- ring (proxy_ring_hash.c never advances its position in the default mode).
-- expect: loads
-- mclint: error:proxy-ring-unfilled
pools {
    main = {
        options = { dist = mcp.dist_ring_hash },
        backends = { "127.0.0.1:41001", "127.0.0.1:41002" },
    },
}
routes { default = route_direct { child = "main" } }
