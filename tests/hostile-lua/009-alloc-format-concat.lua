local s = ""
for i = 1, 1e9 do s = s .. string.format("%099d", i) end --!
