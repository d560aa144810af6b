-- route_best: send to every child at once, wait for all, answer the best result.
register_route_handlers({ "best" })
function route_best_conf(t) return t end
function route_best_start(a, ctx, fgen)
    local h = {}
    for _, c in ipairs(a.children) do
        table.insert(h, fgen:new_handle(c))
    end
    fgen:ready({ a = h, f = function(rctx, h)
        return function(r)
            rctx:enqueue(r, h)
            rctx:wait_cond(#h, mcp.WAIT_ANY)
            local res = rctx:best_result(h)
            if res == nil then
                return "SERVER_ERROR no result\r\n"
            end
            return res
        end
    end })
end
