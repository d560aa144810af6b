-- route_ttl as the default route: writes work, everything else fails.
-- expect: loads
-- mclint: finding:route-unhandled-command
-- request: set k 0 0 1\r\nx
-- request: get k
-- request: delete k
-- answer: STORED
-- answer: SERVER_ERROR invalid command for route_ttl
-- answer: SERVER_ERROR invalid command for route_ttl
-- placed: k 41001
pools { a = { backends = { "127.0.0.1:41001" } } }
routes { default = route_ttl { ttl = 30, child = "a" } }
