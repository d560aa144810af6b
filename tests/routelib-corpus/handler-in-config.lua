-- A custom handler defined in the config instead of a library: the
-- configuration thread registers it, but the worker threads, which load only
-- the proxy_config files, have no route_mine_start.
-- expect: refuses
-- mclint: error:proxy-refused
register_route_handlers({ "mine" })
function route_mine_conf(t, ctx) return t end
function route_mine_start(a, ctx, fgen)
    local h = fgen:new_handle(a.child)
    fgen:ready({ a = h, n = ctx:label(), f = function(rctx, h)
        return function(r) return rctx:enqueue_and_wait(r, h) end
    end })
end
pools { main = { backends = { "127.0.0.1:41001" } } }
routes { default = route_mine { child = "main" } }
