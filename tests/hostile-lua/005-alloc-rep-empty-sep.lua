local s = string.rep("", 1e15, "") --!
