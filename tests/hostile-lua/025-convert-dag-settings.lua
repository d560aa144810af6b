local a = { x = 1 }
for i = 1, 40 do a = { l = a, r = a } end
settings(a) --!
