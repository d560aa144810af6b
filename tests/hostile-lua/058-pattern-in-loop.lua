local s = ("a"):rep(2000)
while true do s:find("a-b") end --!
