local x = select(-1e9, 1) --!
