-- `127.1.0.0.1` is neither an IPv4 address nor a name that resolves: the
-- config loads and every request answers SERVER_ERROR backend failure.
-- expect: loads
-- mclint: finding:proxy-backend-malformed
-- answer: SERVER_ERROR
pools { main = { backends = { "127.1.0.0.1:41001" } } }
routes { default = route_direct { child = "main" } }
