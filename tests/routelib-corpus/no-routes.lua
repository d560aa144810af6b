-- No routes{} at all.
-- expect: refuses
-- mclint: error:proxy-refused
pools {
    main = { backends = { "127.0.0.1:41001", "127.0.0.1:41002", "127.0.0.1:41003" } },
}
