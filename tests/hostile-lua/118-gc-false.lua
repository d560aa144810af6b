setmetatable({}, { __gc = false }) --!
