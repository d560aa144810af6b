local x = ("a"):rep(1000):match(("(a)"):rep(40)) --!
