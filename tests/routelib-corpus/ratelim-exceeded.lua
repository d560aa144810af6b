-- route_ratelim over its limit: the bucket starts full, but a request passes
-- only while more than one token is left, so limit = 1 passes nothing; a
-- limited request gets a Lua error, not the empty answer routelib means to give.
-- expect: loads
-- mclint: finding:route-ratelim-limited-error
-- request: get k
-- request: get k
-- answer: SERVER_ERROR lua failure
-- answer: SERVER_ERROR lua failure
pools { a = { backends = { "127.0.0.1:41001" } } }
routes { default = route_ratelim { child = "a", limit = 1, fillrate = 1, tickrate = 100000 } }
