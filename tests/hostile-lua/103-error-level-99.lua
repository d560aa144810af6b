error("far away", 99) --!
