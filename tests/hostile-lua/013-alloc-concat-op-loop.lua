local s = ("x"):rep(1e7)
while true do local u = s .. "y" end --!
