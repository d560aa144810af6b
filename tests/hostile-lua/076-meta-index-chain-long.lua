local t = {}
for i = 1, 1900 do t = setmetatable({}, { __index = t }) end
for i = 1, 1e12 do local x = t[i] end --!
