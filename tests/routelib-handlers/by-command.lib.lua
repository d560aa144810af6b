-- route_rw: reads from child_read, everything else to child_write; the
-- start function picks by ctx:cmd() when the route serves one command.
register_route_handlers({ "rw" })
function route_rw_conf(t) return t end
function route_rw_start(a, ctx, fgen)
    local o = { r = fgen:new_handle(a.child_read), w = fgen:new_handle(a.child_write) }
    local fixed = ctx:cmd()
    fgen:ready({ a = o, f = function(rctx, o)
        return function(r)
            local cmd = r:command()
            if fixed ~= mcp.CMD_ANY_STORAGE then
                cmd = fixed
            end
            if cmd == mcp.CMD_GET or cmd == mcp.CMD_GETS or cmd == mcp.CMD_MG then
                return rctx:enqueue_and_wait(r, o.r)
            end
            return rctx:enqueue_and_wait(r, o.w)
        end
    end })
end
