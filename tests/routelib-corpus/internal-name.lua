-- A pool named internal.
-- expect: refuses
-- mclint: error:proxy-reserved-name
pools { internal = { backends = { "127.0.0.1:41001" } } }
routes { default = route_direct { child = "internal" } }
