while true do pcall(string.rep, "x", 1e18) end --!
