-- route_chain: children may be routes; each is asked in turn, every one
-- waited for, and the answer is the first hit or else the first answer.
register_route_handlers({ "chain" })
function route_chain_conf(t) return t end
function route_chain_start(a, ctx, fgen)
    local h = {}
    for _, c in ipairs(a.children) do
        table.insert(h, fgen:new_handle(c))
    end
    fgen:ready({ a = h, f = function(rctx, h)
        return function(r)
            local first
            for i = 1, #h do
                local res = rctx:enqueue_and_wait(r, h[i])
                first = first or res
                if res:hit() then
                    return res
                end
            end
            return first
        end
    end })
end
