-- dofile opens a path relative to the proxy's working directory (not the
-- config's: measured), here the directory holding the config and its
-- fragments; mclint opens it under the config's own directory.
-- expect: loads
-- mclint: clean
-- placed: corpus/key 41002
dofile("dofile-fragments/pools.lua")
routes { default = route_direct { child = "main" } }
