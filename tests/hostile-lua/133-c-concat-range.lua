local x = table.concat({}, "", 1, 1 << 40) --!
