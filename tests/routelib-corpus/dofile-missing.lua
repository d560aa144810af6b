-- A fragment that is not there: the proxy refuses (`cannot open`).
-- expect: refuses
-- mclint: error:proxy-lua-error
dofile("dofile-fragments/no-such-file.lua")
routes { default = route_direct { child = "main" } }
