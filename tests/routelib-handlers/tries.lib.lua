-- route_tries: reads ask at most `tries` children in turn until a hit;
-- writes go to the first child, then a delete of the key (mcp.request) to
-- each other child, so no stale copy stays there.
register_route_handlers({ "tries" })
function route_tries_conf(t) return t end
function route_tries_start(a, ctx, fgen)
    local o = { h = {}, tries = a.tries or 1 }
    for _, c in ipairs(a.children) do
        table.insert(o.h, fgen:new_handle(c))
    end
    fgen:ready({ a = o, f = function(rctx, o)
        return function(r)
            local cmd = r:command()
            if cmd == mcp.CMD_GET then
                local res
                for i = 1, math.min(o.tries, #o.h) do
                    res = rctx:enqueue_and_wait(r, o.h[i])
                    if res:hit() then
                        return res
                    end
                end
                return res
            end
            local res = rctx:enqueue_and_wait(r, o.h[1])
            local del = mcp.request("delete " .. r:key() .. "\r\n")
            for i = 2, #o.h do
                rctx:enqueue_and_wait(del, o.h[i])
            end
            return res
        end
    end })
end
