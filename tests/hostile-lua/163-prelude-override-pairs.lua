pairs = function() while true do end end --!
pools { x = {} }
