local f, g
f = function() return g() + 1 end g = function() return f() + 1 end f() --!
