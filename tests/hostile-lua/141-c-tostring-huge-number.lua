local n = tonumber(("9"):rep(1e6))
while true do local s = tostring(n) end --!
