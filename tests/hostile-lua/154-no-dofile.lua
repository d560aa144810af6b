dofile("/etc/passwd") --!
