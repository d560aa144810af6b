-- A backend marked down with `_down_`: keys placed on it get SERVER_ERROR
-- and nothing is contacted; the other backend's keys are stored as usual.
-- expect: loads
-- mclint: clean
-- request: set down/a 0 0 1\r\nx
-- request: set down/c 0 0 1\r\nx
-- request: get down/a
-- answer: SERVER_ERROR
-- answer: STORED
-- answer: SERVER_ERROR
-- placed: down/a
-- placed: down/c 41001
pools { main = { backends = { "127.0.0.1:41001", "127.0.0.1:41002_down_" } } }
routes { default = route_direct { child = "main" } }
