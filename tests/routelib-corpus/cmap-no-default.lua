-- No default: delete answers SERVER_ERROR.
-- expect: loads
-- mclint: finding:route-unhandled-command
-- answer: END
-- answer: SERVER_ERROR lua start failure
-- request: get k
-- request: delete k
pools {
    main = { backends = { "127.0.0.1:41001", "127.0.0.1:41002", "127.0.0.1:41003" } },
}
routes {
    cmap = {
        get = route_direct { child = "main" },
        set = route_direct { child = "main" },
    },
}
