-- An empty backends list.
-- expect: crashes-on-request
-- mclint: error:proxy-empty-backends
pools { main = { backends = {} } }
routes { default = route_direct { child = "main" } }
