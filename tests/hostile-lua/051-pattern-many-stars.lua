local x = ("a"):rep(100):find(("a*"):rep(20) .. "b") --!
