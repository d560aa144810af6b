-- route_direct { chld = ... }: routelib ignores chld and has no child.
-- expect: refuses
-- mclint: error:route-missing-argument
pools {
    main = { backends = { "127.0.0.1:41001" } },
}
routes { default = route_direct { chld = "main" } }
