-- A numeric seed.
-- expect: refuses
-- mclint: error:proxy-option-invalid
pools { main = { options = { seed = 7 }, backends = { "127.0.0.1:41001" } } }
routes { default = route_direct { child = "main" } }
