local x = string.rep("(", 1e6):gsub("%b()", "") --!
