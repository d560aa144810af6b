local x = ("abc"):gsub(".", function() while true do end end) --!
