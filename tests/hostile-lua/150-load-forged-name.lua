local f = load("error('x')", "=config.lua")
f() --!
