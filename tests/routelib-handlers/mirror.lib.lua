-- route_mirror: send to child and a copy to child_mirror; answer child's
-- result without waiting for the mirror.
register_route_handlers({ "mirror" })
function route_mirror_conf(t) return t end
function route_mirror_start(a, ctx, fgen)
    local o = { main = fgen:new_handle(a.child), copy = fgen:new_handle(a.child_mirror) }
    fgen:ready({ a = o, f = function(rctx, o)
        return function(r)
            rctx:enqueue(r, { o.main, o.copy })
            return rctx:wait_handle(o.main)
        end
    end })
end
