local h = ("a"):rep(1e7)
local n = ("a"):rep(5e6) .. "b"
local x = h:find(n, 1, true) --!
