-- A handler defined in a fragment the config dofiles: only the config
-- thread runs the config, so the worker threads never define its start
-- function and the proxy refuses (`local 'f' is not callable`). The same
-- fragment dofiled by a proxy_config library works (tests/proxy_dofile.rs).
-- expect: refuses
-- mclint: error:proxy-refused
dofile("dofile-fragments/handler.lua")
pools { main = { backends = { "127.0.0.1:41001" } } }
routes { default = route_first { children = { "main" } } }
