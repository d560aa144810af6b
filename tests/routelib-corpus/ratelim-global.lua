-- route_ratelim with one bucket shared by all worker threads.
-- expect: loads
-- mclint: finding:route-ratelim-limited-error
-- request: get k
pools { a = { backends = { "127.0.0.1:41001" } } }
routes { default = route_ratelim { child = "a", limit = 1000, fillrate = 1000, tickrate = 1, global = true } }
