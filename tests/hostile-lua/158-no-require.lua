local x = require("os") --!
