local s = "return 1"
for i = 1, 1e6 do s = "return load(" .. string.format("%q", s) .. ")()" end --!
