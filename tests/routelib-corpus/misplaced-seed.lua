-- seed beside backends instead of in options.
-- expect: loads
-- mclint: finding:proxy-unknown-key
pools { main = { seed = "x", backends = { "127.0.0.1:41001", "127.0.0.1:41002" } } }
routes { default = route_direct { child = "main" } }
