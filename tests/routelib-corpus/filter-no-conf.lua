-- A key filter without filter_conf.
-- expect: refuses
-- mclint: error:proxy-option-invalid
pools { main = { options = { filter = "stop" }, backends = { "127.0.0.1:41001" } } }
routes { default = route_direct { child = "main" } }
