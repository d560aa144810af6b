-- Stop key filter: only the part before |#| is hashed.
-- expect: loads
-- mclint: clean
-- request: get a|#|b
pools {
    main = { options = { seed = "s", filter = "stop", filter_conf = "|#|" }, backends = { "127.0.0.1:41001", "127.0.0.1:41002" } },
}
routes { default = route_direct { child = "main" } }
