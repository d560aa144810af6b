local s = ("\0"):rep(2e6)
while true do local x = string.format("%q", s) end --!
