load("return pools", "x", "t", nil)()() --!
