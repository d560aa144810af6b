local s = ("x"):rep(1e5)
while true do s = s:gsub("x", "%0%0") end --!
