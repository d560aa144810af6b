-- A missing closing brace.
-- expect: refuses
-- mclint: error:proxy-lua-error
pools {
    main = { backends = { "127.0.0.1:41001", "127.0.0.1:41002", "127.0.0.1:41003" } },
}
routes {
    default = route_direct { child = "main" 
