local a, b = ("x"):rep(2e6), ("x"):rep(2e6)
while a == b do end --!
