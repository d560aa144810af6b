local s = string.rep("ab", 1e9, ",") --!
