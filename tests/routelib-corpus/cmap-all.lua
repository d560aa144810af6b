-- `all` in the routes cmap (routelib maps it to CMD_ANY_STORAGE).
-- expect: loads
-- mclint: error:route-unknown-command
-- answer: SERVER_ERROR lua start failure
-- answer: SERVER_ERROR lua start failure
-- request: get k
-- request: delete k
pools { main = { backends = { "127.0.0.1:41001" } } }
routes {
    cmap = { all = route_direct { child = "main" } },
}
