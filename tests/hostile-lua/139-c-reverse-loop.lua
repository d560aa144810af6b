local s = ("x"):rep(1e7)
while true do s = s:reverse() end --!
