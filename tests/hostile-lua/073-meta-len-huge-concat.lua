-- __len claims 2^62 entries and __index answers every one: the bounded
-- concat walks it in Lua, where the hook counts every access; both the
-- metamethods and the call sit on one line, so whichever limit trips first
-- (instructions or CPU time) names the same line.
local t = setmetatable({}, { __len = function() return 1 << 62 end, __index = function() return "x" end }) local x = table.concat(t) --!
