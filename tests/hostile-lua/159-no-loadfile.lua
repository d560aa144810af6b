-- loadfile hands out no file of the machine running mclint: it returns nil and
-- the reason, and assert raises it.
local f = assert(loadfile("/etc/passwd")) --!
