error("from above", 2) --!
