-- A path that goes up with `..` out of the proxy's working directory: the
-- proxy cannot open it there; mclint follows no `..`.
-- expect: refuses
-- mclint: error:proxy-lua-error
dofile("../dofile-fragments/pools.lua")
routes { default = route_direct { child = "main" } }
