setmetatable(_G, { __newindex = function() while true do end end }) --!
new_global = 1
