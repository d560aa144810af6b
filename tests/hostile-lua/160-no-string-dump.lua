local b = string.dump(function() end) --!
