error(function() end) --!
