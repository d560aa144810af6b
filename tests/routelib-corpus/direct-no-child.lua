-- route_direct without child: new_handle gets nil.
-- expect: refuses
-- mclint: error:route-missing-argument
pools {
    main = { backends = { "127.0.0.1:41001" } },
}
routes { default = route_direct {} }
