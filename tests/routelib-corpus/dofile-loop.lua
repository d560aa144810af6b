-- Two fragments that dofile each other: the proxy refuses with
-- `C stack overflow`; mclint stops at 32 nested files.
-- expect: refuses
-- mclint: error:proxy-lua-error
dofile("dofile-fragments/loop-a.lua")
