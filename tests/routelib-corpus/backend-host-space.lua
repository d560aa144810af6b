-- A host with a space cannot resolve: the config loads and every request
-- answers SERVER_ERROR backend failure.
-- expect: loads
-- mclint: finding:proxy-backend-malformed
-- answer: SERVER_ERROR
pools { main = { backends = { { host = "127.0.0.1 ", port = 41001 } } } }
routes { default = route_direct { child = "main" } }
