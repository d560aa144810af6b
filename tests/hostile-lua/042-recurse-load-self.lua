local code = "local c = ... return load(c)(c)"
local x = load(code)(code) --!
