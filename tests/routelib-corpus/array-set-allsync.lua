-- route_allsync over an array-form pool set: every pool gets the write, in
-- array order, and the answer is pool 3's.
-- expect: loads
-- mclint: clean
-- placed: corpus/key 41001 41002 41003
pools {
    set_main = {
        { backends = { "127.0.0.1:41001" } },
        { backends = { "127.0.0.1:41002" } },
        { backends = { "127.0.0.1:41003" } },
    },
}
routes { default = route_allsync { children = "set_main" } }
