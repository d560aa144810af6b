local s = ("-- "):rep(1e7)
local f = load(function() return s end) --!
