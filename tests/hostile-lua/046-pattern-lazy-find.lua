local s = ("a"):rep(3e5)
local x = s:find("a.-b") --!
