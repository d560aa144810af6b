-- route_firsthit: ask each child in turn until one hits; else the last answer.
register_route_handlers({ "firsthit" })
function route_firsthit_conf(t) return t end
function route_firsthit_start(a, ctx, fgen)
    local h = {}
    for _, c in ipairs(a.children) do
        h[#h + 1] = fgen:new_handle(c)
    end
    fgen:ready({ a = h, n = ctx:label(), f = function(rctx, h)
        return function(r)
            local res
            for i = 1, #h do
                res = rctx:enqueue_and_wait(r, h[i])
                if res:hit() then
                    return res
                end
            end
            return res
        end
    end })
end
