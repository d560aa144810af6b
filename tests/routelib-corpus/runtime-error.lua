-- Concatenating nil.
-- expect: refuses
-- mclint: error:proxy-lua-error
local port = nil
pools { main = { backends = { "127.0.0.1:" .. port } } }
routes { default = route_direct { child = "main" } }
