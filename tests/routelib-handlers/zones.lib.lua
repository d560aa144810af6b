-- route_prefer: children is a map of names; `first` is asked first, then
-- the others in name order, until one hits.
register_route_handlers({ "prefer" })
function route_prefer_conf(t)
    if type(t.first) ~= "string" then
        error("route_prefer: first must name a child")
    end
    return t
end
function route_prefer_start(a, ctx, fgen)
    local names = {}
    for k in pairs(a.children) do
        if k ~= a.first then
            table.insert(names, k)
        end
    end
    table.sort(names)
    local h = { fgen:new_handle(a.children[a.first]) }
    for _, k in ipairs(names) do
        table.insert(h, fgen:new_handle(a.children[k]))
    end
    fgen:ready({ a = h, f = function(rctx, h)
        return function(r)
            local res
            for i = 1, #h do
                res = rctx:enqueue_and_wait(r, h[i])
                if res:ok() then
                    return res
                end
            end
            return res
        end
    end })
end
