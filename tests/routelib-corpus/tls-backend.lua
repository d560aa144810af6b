-- A backend with tls = true (here through backend_options) makes routelib
-- call mcp.init_tls(), refused without --enable-proxy-tls.
-- expect: refuses
-- mclint: error:proxy-tls-not-compiled
pools { main = { backend_options = { tls = true }, backends = { "127.0.0.1:41001" } } }
routes { default = route_direct { child = "main" } }
