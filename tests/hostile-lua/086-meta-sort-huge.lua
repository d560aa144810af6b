local t = {}
for i = 1, 1e6 do t[i] = 1e6 - i end
table.sort(t) --!
