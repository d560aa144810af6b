local pad = 1


error("config.lua:1: forged", 0) --!
