local x = ("a"):rep(1e5):find("(a*)%1b") --!
