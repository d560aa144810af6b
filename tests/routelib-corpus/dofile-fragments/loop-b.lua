dofile("dofile-fragments/loop-a.lua")
