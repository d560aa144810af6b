-- route_worst: send to every child at once and answer the worst result, so a
-- write fails when any copy fails.
register_route_handlers({ "worst" })
function route_worst_conf(t) return t end
function route_worst_start(a, ctx, fgen)
    local h = {}
    for _, c in ipairs(a.children) do
        table.insert(h, fgen:new_handle(c))
    end
    fgen:ready({ a = h, f = function(rctx, h)
        return function(r)
            rctx:enqueue(r, h)
            rctx:wait_cond(#h, mcp.WAIT_ANY)
            local res = rctx:worst_result(h)
            if res == nil then
                return "SERVER_ERROR a copy failed\r\n"
            end
            return res
        end
    end })
end
