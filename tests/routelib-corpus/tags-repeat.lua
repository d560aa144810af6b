-- A tags filter opening and closing with $.
-- expect: crashes-on-request
-- mclint: error:proxy-tags-filter-repeat
-- request: get a$b$c
pools { main = { options = { filter = "tags", filter_conf = "$$" }, backends = { "127.0.0.1:41001", "127.0.0.1:41002" } } }
routes { default = route_direct { child = "main" } }
