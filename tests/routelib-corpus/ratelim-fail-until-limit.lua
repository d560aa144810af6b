-- route_ratelim with fail_until_limit: requests under the rate get the null answer.
-- expect: loads
-- mclint: clean
-- request: get k
-- request: set k 0 0 1\r\nx
-- answer: END
-- answer: NOT_STORED
pools { a = { backends = { "127.0.0.1:41001" } } }
routes { default = route_ratelim { child = "a", limit = 1000, fillrate = 1000, tickrate = 1, fail_until_limit = true } }
