local t = {}
for i = 1, 1e5 do t[i] = i end
while true do table.remove(t, 1) t[#t + 1] = 0 end --!
