local s = ("x"):rep(1e7)
while true do local n = utf8.len(s) end --!
