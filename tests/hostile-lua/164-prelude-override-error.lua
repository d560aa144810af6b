error = function() while true do end end --!
register_route_handlers(1)
