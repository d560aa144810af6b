pools { q = { backends = { "10.0.0.1:11211" } } }
local r = route_direct { child = "q" }
local m = {}
for i = 1, 200 do m[i] = r end
local map = cmdmap { get = r }
local big = {}
for i = 1, 2000 do big[i] = map end
local x = {}
for i = 1, 200 do x[i] = big end
routes { default = r, map = x } --!
