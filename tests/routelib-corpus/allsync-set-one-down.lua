-- route_allsync over a set with one copy down (port 1 refuses): the write
-- lands on the others; STORED or SERVER_ERROR depends on the worker thread.
-- expect: loads
-- mclint: finding:route-allsync-unordered
-- request: set k 0 0 1\r\nx
-- placed: k 41001 41002
pools {
    set_c = {
        a = { backends = { "127.0.0.1:41001" } },
        b = { backends = { "127.0.0.1:1" } },
        c = { backends = { "127.0.0.1:41002" } },
    },
}
routes { default = route_allsync { children = "set_c" } }
