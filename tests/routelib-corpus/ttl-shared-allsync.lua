-- route_ttl among route_allsync's children rewrites the request they share:
-- the child enqueued before it stores nothing, the one after gets its TTL.
-- expect: loads
-- mclint: error:route-ttl-shared-request
-- request: set k 0 0 1\r\nx
-- placed: k 41002 41003
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
    c = { backends = { "127.0.0.1:41003" } },
}
routes { default = route_allsync { children = { "a", route_ttl { ttl = 100, child = "b" }, "c" } } }
