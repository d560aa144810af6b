collectgarbage("stop") --!
