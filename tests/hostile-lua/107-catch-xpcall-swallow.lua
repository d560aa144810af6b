while true do xpcall(function() while true do end end, function() return "fine" end) end --!
