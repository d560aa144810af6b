local t = setmetatable({}, { __len = function() return 1 << 62 end, __index = function() return "x" end })
local x = table.concat(t) --!
