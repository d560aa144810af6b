-- settings{ backend_use_tls = true } needs memcached built with
-- --enable-proxy-tls: 1.6.38 without it (the official image) refuses.
-- expect: refuses
-- mclint: error:proxy-tls-not-compiled
settings { backend_use_tls = true }
pools { main = { backends = { "127.0.0.1:41001" } } }
routes { default = route_direct { child = "main" } }
