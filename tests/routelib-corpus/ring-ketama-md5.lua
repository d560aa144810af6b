-- A ketama ring with the ring's own MD5 key hash and a numeric-string obuckets
-- (lua_tointegerx converts it) loads and serves. (The ring hashes each
-- backend's port, which this harness rewrites, so placement is proven in
-- tests/proxy_placement.rs instead.)
-- expect: loads
-- mclint: clean
-- request: set a 0 0 1\r\nx
-- request: set c 0 0 1\r\nx
-- request: set f 0 0 1\r\nx
-- answer: STORED
-- answer: STORED
-- answer: STORED
pools {
    main = {
        options = { dist = mcp.dist_ring_hash, omode = "ketama", obuckets = "40", hash = mcp.dist_ring_hash.hash },
        backends = { "127.0.0.1:41001", "127.0.0.1:41002" },
    },
}
routes { default = route_direct { child = "main" } }
