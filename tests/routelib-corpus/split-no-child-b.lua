-- route_split with child_a only.
-- expect: refuses
-- mclint: error:route-missing-argument
pools {
    a = { backends = { "127.0.0.1:41001" } },
}
routes { default = route_split { child_a = "a" } }
