-- route_quorum: writes go to every child and succeed when `need` of them
-- store; reads ask the children in turn until one hits.
register_route_handlers({ "quorum" })
function route_quorum_conf(t)
    if type(t.need) ~= "number" then
        error("route_quorum needs need = N")
    end
    return t
end
function route_quorum_start(a, ctx, fgen)
    local o = { h = {}, need = a.need }
    for _, c in ipairs(a.children) do
        table.insert(o.h, fgen:new_handle(c))
    end
    fgen:ready({ a = o, f = function(rctx, o)
        local h = o.h
        return function(r)
            local cmd = r:command()
            if cmd == mcp.CMD_GET or cmd == mcp.CMD_MG then
                local res
                for i = 1, #h do
                    res = rctx:enqueue_and_wait(r, h[i])
                    if res:hit() then
                        return res
                    end
                end
                return res
            end
            rctx:enqueue(r, h)
            rctx:wait_cond(#h, mcp.WAIT_ANY)
            local good, first = 0, nil
            for i = 1, #h do
                local res = rctx:res_good(h[i])
                if res then
                    good = good + 1
                    first = first or res
                end
            end
            if good >= o.need then
                return first
            end
            return "SERVER_ERROR quorum not reached\r\n"
        end
    end })
end
