-- route_ttl with the TTL as a string of digits: routelib writes it into the
-- request as text, so it works like a number.
-- expect: loads
-- mclint: clean
-- request: set k 0 0 1\r\nx
-- request: get k
-- answer: STORED
-- answer: VALUE
-- placed: k 41001
pools { a = { backends = { "127.0.0.1:41001" } } }
routes { cmap = { set = route_ttl { ttl = "30", child = "a" } }, default = route_direct { child = "a" } }
