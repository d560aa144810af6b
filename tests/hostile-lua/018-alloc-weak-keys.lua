local t = setmetatable({}, { __mode = "k" })
for i = 1, 1e12 do t[{}] = i end --!
