-- A backend table with `down = true` is down like a `_down_` string.
-- expect: loads
-- mclint: clean
-- request: set down/a 0 0 1\r\nx
-- request: set down/c 0 0 1\r\nx
-- answer: SERVER_ERROR
-- answer: STORED
-- placed: down/a
-- placed: down/c 41001
pools {
    main = { backends = {
        { host = "127.0.0.1", port = 41001 },
        { host = "127.0.0.1", port = 41002, down = true },
    } },
}
routes { default = route_direct { child = "main" } }
