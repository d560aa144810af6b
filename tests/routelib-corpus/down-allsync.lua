-- route_allsync with one copy's backend down: the other copy is written, and
-- the answer is the last child's (the down one here).
-- expect: loads
-- mclint: clean
-- request: set down/a 0 0 1\r\nx
-- answer: SERVER_ERROR
-- placed: down/a 41003
pools {
    spare = { backends = { "127.0.0.1:41003" } },
    main = { backends = { "127.0.0.1:41001", "127.0.0.1:41002_down_" } },
}
routes { default = route_allsync { children = { "spare", "main" } } }
