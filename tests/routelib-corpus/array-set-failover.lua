-- An array-form pool set is walked in array order on every worker thread:
-- route_failover tries pool 1 first.
-- expect: loads
-- mclint: clean
-- placed: corpus/key 41001
pools {
    set_main = {
        { backends = { "127.0.0.1:41001" } },
        { backends = { "127.0.0.1:41002" } },
        { backends = { "127.0.0.1:41003" } },
    },
}
routes { default = route_failover { children = "set_main" } }
