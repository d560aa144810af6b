local x = string.find(string.rep(1, 3e5), "1.-2") --!
