error("routelib.lua:999: x", 0) --!
