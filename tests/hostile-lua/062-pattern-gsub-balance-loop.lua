local s = ("(("):rep(1000)
while true do local x = s:gsub("%b()", "") end --!
