local x = ("a"):rep(3e5):match("(.-)b") --!
