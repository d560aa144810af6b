-- route_refuse: keys whose last byte is a digit below 3 are refused with a
-- SERVER_ERROR string; the rest go to child.
register_route_handlers({ "refuse" })
function route_refuse_conf(t) return t end
function route_refuse_start(a, ctx, fgen)
    local h = fgen:new_handle(a.child)
    fgen:ready({ a = h, f = function(rctx, h)
        return function(r)
            local k = r:key()
            local last = string.sub(k, -1)
            if last == "0" or last == "1" or last == "2" then
                return "SERVER_ERROR refused by route_refuse\r\n"
            end
            return rctx:enqueue_and_wait(r, h)
        end
    end })
end
