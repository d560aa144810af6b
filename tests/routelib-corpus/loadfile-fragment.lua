-- loadfile returns the fragment as a function; the config runs it.
-- expect: loads
-- mclint: clean
-- placed: corpus/key 41002
local pools_of = assert(loadfile("./dofile-fragments/pools.lua"))
pools_of()
routes { default = route_direct { child = "main" } }
