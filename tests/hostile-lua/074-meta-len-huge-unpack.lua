local t = setmetatable({}, { __len = function() return 1e8 end })
local x = table.unpack(t) --!
