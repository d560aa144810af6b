-- dofile-handler-in-config.lua: a custom handler defined in a fragment.
register_route_handlers({ "first" })
function route_first_conf(t, ctx)
    return t
end
function route_first_start(a, ctx, fgen)
    local h = fgen:new_handle(a.children[1])
    fgen:ready({ n = ctx:label(), f = function(rctx) return function(r) return rctx:enqueue_and_wait(r, h) end end })
end
