local t = { ("x"):rep(1e6) }
while true do t[#t + 1] = table.concat(t) end --!
