local t = {}
local k = ("k"):rep(1e6)
for i = 1, 40 do t[k .. i] = 1 end
settings(t) --!
