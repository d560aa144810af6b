-- dofile-loop.lua: a.lua dofiles b.lua dofiles a.lua, without end.
dofile("dofile-fragments/loop-b.lua")
