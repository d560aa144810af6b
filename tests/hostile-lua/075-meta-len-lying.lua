local n = 0
local t = setmetatable({}, { __len = function() n = n + 1 return n == 1 and 1 or 1 << 62 end })
local x = table.concat(t, ",") --!
