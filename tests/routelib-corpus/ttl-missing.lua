-- route_ttl without ttl: loads, and every write through it fails.
-- expect: loads
-- mclint: error:route-missing-argument
-- request: set k 0 0 1\r\nx
-- answer: SERVER_ERROR lua failure
pools { a = { backends = { "127.0.0.1:41001" } } }
routes { cmap = { set = route_ttl { child = "a" } }, default = route_direct { child = "a" } }
