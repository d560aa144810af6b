-- A cmdmap map entry with `all` for the other commands.
-- expect: loads
-- mclint: clean
-- request: get user/1
-- request: delete user/1
pools {
    a = { backends = { "127.0.0.1:41001" } },
    b = { backends = { "127.0.0.1:41002" } },
}
routes {
    map = {
        user = cmdmap {
            get = route_direct { child = "a" },
            all = route_direct { child = "b" },
        },
    },
    default = route_direct { child = "b" },
}
