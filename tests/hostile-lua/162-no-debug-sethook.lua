debug.sethook() --!
