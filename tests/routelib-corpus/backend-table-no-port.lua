-- A backend table without a port: routelib defaults it to 11211 (only the
-- string form needs `host:port`). Nothing listens there in the test.
-- expect: loads
-- mclint: clean
pools { main = { backends = { { host = "127.0.0.1", label = "noport" } } } }
routes { default = route_direct { child = "main" } }
