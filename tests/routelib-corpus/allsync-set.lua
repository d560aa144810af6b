-- route_allsync over a set name: every copy gets the write, but which copy's
-- answer is returned differs between worker threads.
-- expect: loads
-- mclint: finding:route-allsync-unordered
-- request: set k 0 0 1\r\nx
-- answer: STORED
-- placed: k 41001 41002
pools {
    set_copies = {
        a = { backends = { "127.0.0.1:41001" } },
        b = { backends = { "127.0.0.1:41002" } },
    },
}
routes { default = route_allsync { children = "set_copies" } }
