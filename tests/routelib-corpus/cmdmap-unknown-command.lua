-- A misspelt command in cmdmap{}.
-- expect: refuses
-- mclint: error:route-unknown-command
pools {
    main = { backends = { "127.0.0.1:41001", "127.0.0.1:41002", "127.0.0.1:41003" } },
}
routes {
    map = { x = cmdmap { sett = route_direct { child = "main" } } },
    default = route_direct { child = "main" },
}
