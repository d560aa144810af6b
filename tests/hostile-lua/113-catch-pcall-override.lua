pcall = function(f, ...) return true, f(...) end
while true do end --!
