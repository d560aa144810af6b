-- A single pool given to children.
-- expect: refuses
-- mclint: error:route-child-kind
pools {
    main = { backends = { "127.0.0.1:41001", "127.0.0.1:41002", "127.0.0.1:41003" } },
}
routes { default = route_allsync { children = "main" } }
