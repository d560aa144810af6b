local x = ("x"):rep(2e5):find("[%w_]*[^x]y") --!
