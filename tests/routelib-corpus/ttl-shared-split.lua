-- route_split with a route_ttl child_b: child_a's copy of the request is
-- rewritten before it is sent; the client gets child_a's CLIENT_ERROR and only
-- child_b stores the value.
-- expect: loads
-- mclint: error:route-ttl-shared-request
-- request: set k 0 0 1\r\nx
-- answer: CLIENT_ERROR
-- placed: k 41002
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes { default = route_split { child_a = "a", child_b = route_ttl { ttl = 100, child = "b" } } }
