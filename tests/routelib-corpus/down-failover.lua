-- route_failover over a pool whose key's backend is down: the next child
-- takes the write (it is asked at once, not as a failover).
-- expect: loads
-- mclint: clean
-- request: set down/a 0 0 1\r\nx
-- request: set down/c 0 0 1\r\nx
-- answer: STORED
-- answer: STORED
-- placed: down/a 41003
-- placed: down/c 41001
pools {
    main = { backends = { "127.0.0.1:41001", "127.0.0.1:41002_down_" } },
    spare = { backends = { "127.0.0.1:41003" } },
}
routes { default = route_failover { children = { "main", "spare" } } }
