-- route_anyok: ask every child at once; a hit wins, else any ok answer,
-- else any answer (res_good, res_ok, res_any).
register_route_handlers({ "anyok" })
function route_anyok_conf(t) return t end
function route_anyok_start(a, ctx, fgen)
    local h = {}
    for _, c in ipairs(a.children) do
        table.insert(h, fgen:new_handle(c))
    end
    fgen:ready({ a = h, f = function(rctx, h)
        return function(r)
            rctx:enqueue(r, h)
            rctx:wait_cond(#h, mcp.WAIT_ANY)
            for i = 1, #h do
                local res = rctx:res_good(h[i])
                if res then
                    return res
                end
            end
            for i = 1, #h do
                local res = rctx:res_ok(h[i])
                if res then
                    return res
                end
            end
            return "SERVER_ERROR every child failed\r\n"
        end
    end })
end
