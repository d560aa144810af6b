for w in ("a"):rep(1e5):gmatch("a-a-a-b") do end --!
