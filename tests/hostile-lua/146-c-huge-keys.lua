local t = {}
t[math.maxinteger] = 1
t[math.mininteger] = 2
t[1e308] = 3
local x = #t + nil --!
