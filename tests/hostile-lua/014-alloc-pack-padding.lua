local s = string.pack("c2000000000", "") --!
