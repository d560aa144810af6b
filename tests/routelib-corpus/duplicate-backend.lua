-- The same backend twice.
-- expect: loads
-- mclint: finding:proxy-duplicate-backend
pools { main = { backends = { "127.0.0.1:41001", "127.0.0.1:41002", "127.0.0.1:41001" } } }
routes { default = route_direct { child = "main" } }
