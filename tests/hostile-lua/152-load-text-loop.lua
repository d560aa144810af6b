local s = ("x = 1 "):rep(1e6)
while true do load(s) end --!
