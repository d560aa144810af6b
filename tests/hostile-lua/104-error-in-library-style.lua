local function lib() error("routelib.lua:42: inside", 2) end --!
lib()
