-- A backend without a port.
-- expect: refuses
-- mclint: error:proxy-backend-malformed
pools { main = { backends = { "127.0.0.1" } } }
routes { default = route_direct { child = "main" } }
