local a = "10.0.0.1:11211"
for i = 1, 30 do a = { a, a } end
pools { q = { backends = a } } --!
routes { default = route_direct { child = "q" } }
