while true do pcall(string.find, ("a"):rep(3e5), "a.-b") end --!
