local x = ("a"):rep(3e5):find("%f[a]a-b") --!
