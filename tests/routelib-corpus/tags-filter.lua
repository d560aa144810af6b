-- Tags key filter with two different characters.
-- expect: loads
-- mclint: clean
-- request: get user{42}:name
pools {
    main = { options = { filter = "tags", filter_conf = "{}" }, backends = { "127.0.0.1:41001", "127.0.0.1:41002" } },
}
routes { default = route_direct { child = "main" } }
