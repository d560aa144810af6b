-- Label web1 is cut to web.
-- expect: loads
-- mclint: finding:proxy-backend-malformed
pools { main = { backends = { "127.0.0.1:41001 web1", "127.0.0.1:41002" } } }
routes { default = route_direct { child = "main" } }
