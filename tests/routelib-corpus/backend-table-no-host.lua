-- A backend table without host.
-- expect: refuses
-- mclint: error:proxy-backend-malformed
pools { main = { backends = { { port = 41001 } } } }
routes { default = route_direct { child = "main" } }
