local p = {} for i = 1, 120000 do p["set_" .. i] = i end pools(p) --!
