-- Backends as a map.
-- expect: loads
-- mclint: finding:proxy-map-backends
pools { main = { backends = { x = "127.0.0.1:41001", y = "127.0.0.1:41002" } } }
routes { default = route_direct { child = "main" } }
