table.sort({ 3, 1, 2 }, function(a, b) error("no order") end) --!
