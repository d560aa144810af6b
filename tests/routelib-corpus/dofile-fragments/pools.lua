-- A fragment of dofile-fragment.lua and loadfile-fragment.lua: the pools.
pools {
    main = { backends = { "127.0.0.1:41001", "127.0.0.1:41002" } },
}
