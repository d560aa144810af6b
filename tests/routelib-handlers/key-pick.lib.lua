-- route_keypick: picks a child by the key's length and last byte.
register_route_handlers({ "keypick" })
function route_keypick_conf(t) return t end
function route_keypick_start(a, ctx, fgen)
    local h = {}
    for _, c in ipairs(a.children) do
        table.insert(h, fgen:new_handle(c))
    end
    fgen:ready({ a = h, f = function(rctx, h)
        return function(r)
            local k = r:key()
            local i = (#k + string.byte(k, #k)) % #h + 1
            return rctx:enqueue_and_wait(r, h[i])
        end
    end })
end
