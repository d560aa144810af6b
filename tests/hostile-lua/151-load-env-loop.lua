load("while true do end", "x", "t", {})() --!
