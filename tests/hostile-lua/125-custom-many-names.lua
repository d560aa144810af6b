local t = {} for i = 1, 1e7 do t[i] = "h" .. i end register_route_handlers(t) --!
