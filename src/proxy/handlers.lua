-- mclint's model of routelib's request-time API (memcached 1.6.38), for
-- running a custom route handler's start function and the request function it
-- builds against simulated backends.
--
-- This is not the proxy: requests are never sent anywhere. A child's answer
-- comes from `contact(child, cmd, key)` (mclint's engine, in Rust), the
-- moment the handler enqueues the request, so the order of contacts is the
-- order of enqueue calls, as the proxy sends them.
--
-- Loaded after the prelude and the libraries (the files a worker thread of
-- the proxy loads: not the config itself). Returns `run`.
local type, error, tostring, tonumber, tointeger, pairs, ipairs, rawget, setmetatable,
    getmetatable, pcall = type, error, tostring, tonumber, math.tointeger, pairs, ipairs, rawget,
    setmetatable, getmetatable, pcall
local sfind, ssub, sgmatch, format = string.find, string.sub, string.gmatch, string.format

-- Command names and ids (as the prelude's mcp.CMD_*), and the line a client
-- sends for each: the key is the second token, except gat's and gats' third.
local NAMES = {
    "mg", "ms", "md", "mn", "ma", "me", "get", "gat", "set", "add", "cas", "gets", "gats",
    "incr", "decr", "touch", "append", "delete", "replace", "prepend",
}
local CMDS = {}
for i, n in ipairs(NAMES) do
    CMDS[n] = i
end
local LINES = {
    mg = "mg %s v", ms = "ms %s 1", md = "md %s", mn = "mn %s", ma = "ma %s", me = "me %s",
    get = "get %s", gets = "gets %s", gat = "gat 0 %s", gats = "gats 0 %s",
    set = "set %s 0 0 1", add = "add %s 0 0 1", replace = "replace %s 0 0 1",
    append = "append %s 0 0 1", prepend = "prepend %s 0 0 1", cas = "cas %s 0 0 1 1",
    incr = "incr %s 1", decr = "decr %s 1", touch = "touch %s 0", delete = "delete %s",
}
local function line_for(cmd, key)
    return format(LINES[NAMES[cmd]] or "get %s", key)
end

-- The request-time constants a handler may name.
mcp.WAIT_ANY, mcp.WAIT_OK, mcp.WAIT_GOOD, mcp.WAIT_FASTGOOD = 1, 2, 3, 4
mcp.RES_GOOD, mcp.RES_OK, mcp.RES_ANY = 8, 16, 32
local CODES = {
    STORED = 8, EXISTS = 9, DELETED = 10, TOUCHED = 11, VERSION = 12, NOT_FOUND = 13,
    NOT_STORED = 14, OK = 15, NOP = 16, END = 17, ERROR = 21, CLIENT_ERROR = 22,
    SERVER_ERROR = 23,
}
for k, v in pairs(CODES) do
    mcp["MCMC_CODE_" .. k] = v
end

local function unmodelled(what)
    return function()
        error("mclint does not model " .. what .. " (the handler cannot be followed)", 2)
    end
end

-- A resolved child (what routelib's get_child or a nested route gives the
-- start function): a pool or a route, by its index for `contact`.
local Child = { __name = "mclint.child" }
mcp.internal_handler = setmetatable({ id = -1 }, Child)

local Request = { __name = "mcp.request" }
Request.__index = Request

-- A request as the proxy parses a command line: tokens split on spaces, the
-- key is the second token.
local function parse_request(line)
    if type(line) ~= "string" then
        error("mcp.request needs a command line string", 3)
    end
    local text = line:gsub("\r?\n.*$", "")
    local tokens = {}
    for tok in sgmatch(text, "[^ ]+") do
        tokens[#tokens + 1] = tok
        if #tokens > 24 then
            break
        end
    end
    local cmd = CMDS[tokens[1] or ""]
    if cmd == nil then
        error("mcp.request: unknown command `" .. ssub(tostring(tokens[1]), 1, 40) .. "`", 3)
    end
    local keytoken = (cmd == CMDS.gat or cmd == CMDS.gats) and 3 or 2
    return setmetatable({ tokens = tokens, cmd = cmd, keytoken = keytoken }, Request)
end

function Request:key()
    return self.tokens[self.keytoken] or ""
end
function Request:command()
    return self.cmd
end
function Request:ntokens()
    return #self.tokens
end
function Request:token(n, value)
    n = tointeger(n)
    if n == nil or n < 1 then
        error("request:token needs a token number", 2)
    end
    if value ~= nil then
        self.tokens[n] = tostring(value)
        self.rewritten = true
        return
    end
    return self.tokens[n]
end
function Request:token_int(n)
    return tointeger(tonumber(self:token(n)))
end
function Request:ltrimkey(n)
    self.tokens[self.keytoken] = ssub(self:key(), (tointeger(n) or 0) + 1)
end
function Request:rtrimkey(n)
    local k = self:key()
    self.tokens[self.keytoken] = ssub(k, 1, #k - (tointeger(n) or 0))
end
-- Meta flags: the tokens after the key, a letter then its value.
local function flag_at(self, f)
    for i = self.keytoken + 1, #self.tokens do
        if ssub(self.tokens[i], 1, 1) == f then
            return i
        end
    end
end
function Request:has_flag(f)
    return flag_at(self, f) ~= nil
end
function Request:flag_token(f, value)
    local i = flag_at(self, f)
    if value ~= nil then
        local new = f .. tostring(value)
        if i then
            self.tokens[i] = new
        else
            self.tokens[#self.tokens + 1] = new
        end
        self.rewritten = true
        return i ~= nil
    end
    if i == nil then
        return false
    end
    return true, ssub(self.tokens[i], 2)
end
function Request:flag_token_int(f)
    local found, v = self:flag_token(f)
    if found then
        return tointeger(tonumber(v))
    end
end
function Request:flag_set(f, value)
    self:flag_token(f, value == nil and "" or value)
    return true
end
Request.flag_add = function(self, f, value)
    if flag_at(self, f) then
        return false
    end
    return self:flag_set(f, value)
end
Request.flag_replace = function(self, f, value)
    if not flag_at(self, f) then
        return false
    end
    return self:flag_set(f, value)
end
function Request:flag_del(f)
    local i = flag_at(self, f)
    if i then
        table.remove(self.tokens, i)
        self.rewritten = true
        return true
    end
    return false
end
Request.match_res = unmodelled("request:match_res")

-- What a child answered.
local Result = { __name = "mcp.response" }
Result.__index = Result
function Result:ok()
    return self.status == "hit" or self.status == "miss"
end
function Result:hit()
    return self.status == "hit"
end
function Result:vlen()
    return self.vlen_ or 0
end
function Result:code()
    return self.code_
end
function Result:line()
    return self.line_ or ""
end
function Result:elapsed()
    return 0
end
function Result:flag_blank()
    return true
end
function Result:close() end

local function result_for(status, cmd, from_route)
    local code
    if status == "hit" then
        code = (cmd == mcp.CMD_GET or cmd == mcp.CMD_GETS or cmd == mcp.CMD_GAT
            or cmd == mcp.CMD_GATS or cmd == mcp.CMD_MG) and CODES.OK or CODES.STORED
    elseif status == "miss" then
        code = CODES.END
    else
        code = CODES.SERVER_ERROR
    end
    return setmetatable({ status = status, code_ = code, vlen_ = status == "hit" and 1 or 0,
        from_route = from_route }, Result)
end

-- The flags of a handle's slot, as the proxy sets them: a hit is GOOD (8),
-- a miss OK (16), a backend failure ERROR (128) alone, a route's error
-- ERROR|ANY (160). rctx:result and res_* see only GOOD|OK|ANY, so a backend
-- failure reads as nothing there; best_result and worst_result see the raw
-- flags.
local function raw_flag(res)
    if res.status == "hit" then
        return 8
    elseif res.status == "miss" then
        return 16
    elseif res.from_route then
        return 160
    end
    return 128
end
local function flag_of(res)
    local f = raw_flag(res) & 56
    if f ~= 0 then
        return f
    end
end

local function run(name, a, label, ctx_cmd, cmd, key, contact, note)
    local start = rawget(_G, "route_" .. name .. "_start")
    if type(start) ~= "function" then
        return "start", "route_" .. name .. "_start is not defined by a library: the proxy's worker "
            .. "threads load only the proxy_config files, not the config (proxy_arg), and fail "
            .. "to start (\"local 'f' is not callable\")"
    end

    -- The function generator: handles are numbered from 0, as the proxy's.
    local handles = {}
    local ready
    local fgen = {
        new_handle = function(_, child)
            if getmetatable(child) ~= Child then
                error("bad argument to new_handle: not a pool or a route (a "
                    .. type(child) .. ")", 2)
            end
            handles[#handles + 1] = child
            return #handles - 1
        end,
        ready = function(_, t)
            if type(t) ~= "table" or type(t.f) ~= "function" then
                error("fgen:ready needs a table with a function f", 2)
            end
            ready = t
        end,
    }
    local ctx = {
        label = function() return label end,
        cmd = function() return ctx_cmd end,
        get_child = unmodelled("ctx:get_child at request time"),
    }
    local ok, err = pcall(start, a, ctx, fgen)
    if not ok then
        return "start", "route_" .. name .. "_start raised an error: " .. tostring(err)
    end
    if ready == nil then
        return "start", "route_" .. name .. "_start never called fgen:ready"
    end

    -- One request: per handle, the result and whether the handler waited for it.
    local slots = {}
    local order = {}
    local function enqueue_one(r, h)
        local n = tointeger(h)
        local child = n and handles[n + 1]
        if child == nil then
            error("invalid handle passed to enqueue", 3)
        end
        if getmetatable(r) ~= Request then
            error("rctx:enqueue needs a request object", 3)
        end
        local status, from_route = contact(child.id, r.cmd, r:key())
        local res = result_for(status, r.cmd, from_route)
        slots[n] = { res = res, waited = false, contact = #order + 1 }
        order[#order + 1] = n
    end
    local function wait_all()
        for _, s in pairs(slots) do
            if not s.waited then
                s.waited = true
                note(s.contact)
            end
        end
    end
    local function slot(h)
        local s = slots[tointeger(h) or -1]
        return s
    end
    local rctx = {
        enqueue = function(_, r, h)
            if type(h) == "table" then
                for _, x in ipairs(h) do
                    enqueue_one(r, x)
                end
            else
                enqueue_one(r, h)
            end
        end,
        wait_cond = function(_, n, mode)
            if n == 0 then
                return 0
            end
            wait_all()
            local done = 0
            for _, s in pairs(slots) do
                local f = flag_of(s.res)
                if mode == mcp.WAIT_GOOD or mode == mcp.WAIT_FASTGOOD then
                    done = done + ((f == mcp.RES_GOOD or (mode == mcp.WAIT_FASTGOOD and f == mcp.RES_OK)) and 1 or 0)
                elseif mode == mcp.WAIT_OK then
                    done = done + ((f == mcp.RES_GOOD or f == mcp.RES_OK) and 1 or 0)
                else
                    done = done + 1
                end
            end
            return done
        end,
        enqueue_and_wait = function(_, r, h)
            if tointeger(h) == nil then
                error("invalid handle passed to enqueue_and_wait", 2)
            end
            enqueue_one(r, h)
            wait_all()
            return slots[tointeger(h)].res
        end,
        wait_handle = function(_, h)
            local s = slot(h)
            if s == nil then
                error("wait_handle called on unqueued handle", 2)
            end
            wait_all()
            return s.res
        end,
        res_good = function(_, h)
            local s = slot(h)
            return s and flag_of(s.res) == mcp.RES_GOOD and s.res or nil
        end,
        res_ok = function(_, h)
            local s = slot(h)
            local f = s and flag_of(s.res)
            return (f == mcp.RES_GOOD or f == mcp.RES_OK) and s.res or nil
        end,
        res_any = function(_, h)
            local s = slot(h)
            return s and flag_of(s.res) and s.res or nil
        end,
        result = function(_, h)
            local s = slot(h)
            local f = s and flag_of(s.res)
            if f then
                return s.res, f
            end
            return nil, nil
        end,
        best_result = function(_, t)
            local final, flag
            for _, h in ipairs(t) do
                local s = slot(h)
                if s then
                    local raw = raw_flag(s.res)
                    if raw & 8 ~= 0 then
                        return s.res, 8
                    elseif raw & 16 ~= 0 then
                        final, flag = s.res, 16
                    elseif flag ~= 16 then
                        final, flag = s.res, raw & 56
                    end
                end
            end
            return final, flag
        end,
        worst_result = function(_, t)
            local final, worst = nil, 0
            for _, h in ipairs(t) do
                local s = slot(h)
                if s then
                    local raw = raw_flag(s.res)
                    if worst <= raw then
                        final, worst = s.res, raw
                    end
                end
            end
            if final then
                return final, worst & 56
            end
            return nil, nil
        end,
        cfd = function() return 0 end,
        tls_peer_cn = function() return nil end,
        sleep = function() end,
        request_new = unmodelled("rctx:request_new"),
        response_new = unmodelled("rctx:response_new"),
        handle_set_cb = unmodelled("rctx:handle_set_cb"),
    }
    local ok2, gen = pcall(ready.f, rctx, ready.a)
    if not ok2 then
        return "start", "the function route_" .. name .. " gives fgen:ready raised an error: "
            .. tostring(gen)
    end
    if type(gen) ~= "function" then
        return "start", "the function route_" .. name .. " gives fgen:ready returned a "
            .. type(gen) .. ", not the request function"
    end
    local r = parse_request(line_for(cmd, key))
    local ok3, res = pcall(gen, r)
    if not ok3 then
        return "request", "route_" .. name .. " raised an error on the request: " .. tostring(res)
    end
    if getmetatable(res) == Result then
        return "answer", res.status
    elseif type(res) == "string" then
        if sfind(res, "^VALUE ") or sfind(res, "^STORED") or sfind(res, "^DELETED")
            or sfind(res, "^HD") or sfind(res, "^VA ") then
            return "answer", "hit"
        elseif sfind(res, "^END") or sfind(res, "^EN") or sfind(res, "^NOT_FOUND") then
            return "answer", "miss"
        end
        return "answer", "error", "route_" .. name .. " answers the string "
            .. format("%q", ssub(res, 1, 60))
    end
    return "answer", "error", "route_" .. name .. " returned a " .. type(res)
        .. ", not a result: the proxy answers SERVER_ERROR"
end

-- mcp functions a handler may call at request time.
mcp.request = function(line)
    return parse_request(line)
end
mcp.stat = function() end
mcp.add_stat = function() end
mcp.log = function() end
mcp.log_req = function() end
mcp.log_reqsample = function() end
mcp.time_real_millis = function() return 0 end
mcp.time_mono_millis = function() return 0 end
mcp.ratelim_tbf = function()
    return setmetatable({}, { __call = function() return true end })
end
mcp.internal = unmodelled("mcp.internal (use the child \"internal\")")
mcp.res_mutator_new = unmodelled("mcp.res_mutator_new")
mcp.req_mutator_new = unmodelled("mcp.req_mutator_new")
mcp.res_inspector_new = unmodelled("mcp.res_inspector_new")
mcp.req_inspector_new = unmodelled("mcp.req_inspector_new")

return run, Child
