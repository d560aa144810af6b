local x = string.byte(("x"):rep(1e7), 1, -1) --!
