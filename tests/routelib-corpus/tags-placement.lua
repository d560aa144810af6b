-- Tags filter over three backends: only the part between the braces is hashed.
-- expect: loads
-- mclint: clean
-- request: set {u1}/x 0 0 1\r\nx
-- request: set {u1}/y 0 0 1\r\nx
-- request: set {u2}/x 0 0 1\r\nx
-- placed: {u1}/x 41002
-- placed: {u1}/y 41002
-- placed: {u2}/x 41001
pools {
    main = { options = { filter = "tags", filter_conf = "{}" }, backends = { "127.0.0.1:41001", "127.0.0.1:41002", "127.0.0.1:41003" } },
}
routes { default = route_direct { child = "main" } }
