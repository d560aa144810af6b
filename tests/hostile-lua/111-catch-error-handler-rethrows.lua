local ok = xpcall(function() while true do end end, function(e) return e end) --!
while true do end
