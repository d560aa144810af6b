-- mclint's model of routelib's configuration-stage API (memcached 1.6.38).
--
-- This is not routelib: it records what a config declares so that mclint can
-- check it in Rust. Problems that routelib would only raise later (or never)
-- are recorded as notes instead of errors, so that one run reports them all.
--
-- Called with: line() -> caller's line in the config, env(name) -> value |
-- false (unknown: no container to read it from) | nil (unset), note(kind, line,
-- message).
local line, env, note = ...

-- Lua patterns run in C, where the instruction budget cannot stop them, and
-- backtracking costs up to (subject length)^(quantifiers). Refuse matches that
-- could take more than about 10^8 steps.
do
    local log, max, byte, type, error = math.log, math.max, string.byte, type, error
    local LIMIT = log(1e8)
    local function cost_ok(s, p)
        local q, i, n = 0, 1, #p
        while i <= n do
            local c = byte(p, i)
            if c == 37 then
                i = i + 1 -- % escapes the next character
            elseif c == 42 or c == 43 or c == 45 or c == 63 then
                q = q + 1 -- * + - ?
            end
            i = i + 1
        end
        return q == 0 or q * log(max(#s, 2)) <= LIMIT
    end
    for _, name in ipairs({ "find", "match", "gmatch", "gsub" }) do
        local f = string[name]
        string[name] = function(s, p, a, plain, ...)
            if type(s) == "string" and type(p) == "string" and not (name == "find" and plain)
                and not cost_ok(s, p) then
                error("mclint sandbox: string." .. name .. " with a pattern of this many repetitions on a "
                    .. #s .. "-byte string could run for hours; simplify the pattern", 2)
            end
            return f(s, p, a, plain, ...)
        end
    end
end

local S = {
    pools = {},          -- name -> conf, merged over every pools{} call
    pool_lines = {},     -- name -> line of the pools{} call that set it
    routes = {},         -- tag -> routes{} argument
    route_lines = {},    -- tag -> line
    settings = nil,
    settings_line = nil,
    zone = nil,          -- { value = string|nil, from = "literal"|"env"|"file", arg = string, line = n }
    custom = {},         -- route handler names added with register_route_handlers
    verbose = false,
    debug = false,
}

local RouteConf = { __name = "RouteConf" }
local CommandMap = { __name = "CommandMap" }
local McpConst = { __name = "McpConst" }

local BUILTIN = {
    failover = true, allfastest = true, allsync = true, allasync = true,
    split = true, direct = true, zfailover = true, ttl = true, null = true,
    ratelim = true, random = true,
}

local function route_maker(name, unknown)
    return function(t)
        local r = { f = name, a = t, line = line(), unknown = unknown }
        return setmetatable(r, RouteConf)
    end
end

for name in pairs(BUILTIN) do
    _G["route_" .. name] = route_maker(name, false)
end

function register_route_handlers(t)
    if type(t) ~= "table" then
        error("register_route_handlers takes a list of handler names", 2)
    end
    for _, name in ipairs(t) do
        if type(name) ~= "string" then
            error("register_route_handlers takes a list of handler names", 2)
        end
        S.custom[name] = true
        _G["route_" .. name] = route_maker(name, false)
    end
end

function settings(a)
    S.settings = a
    S.settings_line = line()
end

function pools(a)
    if type(a) ~= "table" then
        note("refused", line(), "pools{} takes a table, got a " .. type(a))
        return
    end
    local l = line()
    for k, v in pairs(a) do
        S.pools[k] = v
        S.pool_lines[k] = l
    end
end

function routes(a)
    if type(a) ~= "table" then
        note("refused", line(), "routes{} takes a table, got a " .. type(a))
        return
    end
    if a.conf == nil then
        a.conf = {}
    end
    local tag = a.tag or "default"
    S.routes[tag] = a
    S.route_lines[tag] = line()
end

function find_pools()
    error("find_pools is not implemented by routelib 1.6.38", 2)
end

function local_zone(zone)
    if zone then
        S.zone = { value = zone, from = "literal", line = line() }
    elseif S.zone then
        return S.zone.value
    end
end

function local_zone_from_env(name)
    local v = env(name)
    if v == nil then
        error("failed to get local zone from environment variable: " .. tostring(name), 2)
    end
    S.zone = { value = v or nil, from = "env", arg = name, line = line() }
end

function local_zone_from_file(name)
    -- The file is read inside the pod at start-up; mclint cannot see it.
    S.zone = { from = "file", arg = name, line = line() }
end

function say(...) end
function dsay(...) end

function verbose(opt)
    S.verbose = opt
end

function debug(opt)
    S.debug = opt
end

local COMMANDS = {
    mg = true, ms = true, md = true, mn = true, ma = true, me = true,
    get = true, gat = true, set = true, add = true, cas = true, gets = true,
    gats = true, incr = true, decr = true, touch = true, append = true,
    delete = true, replace = true, prepend = true, all = true,
}

function cmdmap(t)
    if type(t) ~= "table" then
        note("refused", line(), "cmdmap takes a table, got a " .. type(t))
        t = {}
    end
    local l = line()
    for k in pairs(t) do
        if type(k) == "string" then
            if not COMMANDS[k] then
                note("unknown-command", l, k)
            end
        elseif type(k) ~= "number" then
            note("refused", l, "cmdmap keys must all be strings or id numbers")
        end
    end
    return setmetatable({ entries = t, line = l }, CommandMap)
end

-- The parts of `mcp` a routelib config may name.
local function const(name)
    return setmetatable({ name = name }, McpConst)
end
mcp = {
    hash_xxhash = const("hash_xxhash"),
    dist_jump_hash = const("dist_jump_hash"),
    dist_ring_hash = const("dist_ring_hash"),
}
-- The ring's own key hasher (MD5), for `options = { hash = mcp.dist_ring_hash.hash }`.
rawset(mcp.dist_ring_hash, "hash", const("dist_ring_hash.hash"))
local CMD_IDS = {
    "CMD_MG", "CMD_MS", "CMD_MD", "CMD_MN", "CMD_MA", "CMD_ME", "CMD_GET",
    "CMD_GAT", "CMD_SET", "CMD_ADD", "CMD_CAS", "CMD_GETS", "CMD_GATS",
    "CMD_INCR", "CMD_DECR", "CMD_TOUCH", "CMD_APPEND", "CMD_DELETE",
    "CMD_REPLACE", "CMD_PREPEND",
}
for i, n in ipairs(CMD_IDS) do
    mcp[n] = i
end
mcp.CMD_ANY_STORAGE = 38

-- A call to a route_* function routelib does not define is a load error in
-- the real proxy ("attempt to call a nil value"); record it and go on.
setmetatable(_G, {
    __index = function(_, k)
        if type(k) == "string" and string.sub(k, 1, 6) == "route_" and not string.find(k, "_conf$")
            and not string.find(k, "_start$") then
            return route_maker(string.sub(k, 7), true)
        end
        return nil
    end,
})

-- Runs the _conf function of handlers added by extra libraries, the way
-- routelib does while it prepares routes, so their own checks apply.
local function run_custom(r, depth)
    if depth > 64 or type(r) ~= "table" or getmetatable(r) ~= RouteConf then
        return
    end
    if type(r.a) == "table" then
        for k, v in pairs(r.a) do
            if type(k) == "string" and string.find(k, "^child") then
                if getmetatable(v) == RouteConf then
                    run_custom(v, depth + 1)
                elseif type(v) == "table" then
                    for _, c in pairs(v) do
                        run_custom(c, depth + 1)
                    end
                end
            end
        end
    end
    if S.custom[r.f] then
        local f = rawget(_G, "route_" .. r.f .. "_conf")
        if type(f) == "function" then
            local ctx = {
                label = function() return "mclint" end,
                cmd = function() return mcp.CMD_ANY_STORAGE end,
                local_zone = function() return S.zone and S.zone.value end,
                get_stats_id = function() return 1 end,
                pool = function() return nil end,
            }
            local ok, err = pcall(f, r.a, ctx)
            if not ok then
                note("custom-conf", r.line, tostring(err))
            elseif err ~= nil then
                r.a = err
            end
        else
            note("custom-conf", r.line, "route_" .. r.f .. "_conf is not defined")
        end
    end
end

local function finish()
    for _, set in pairs(S.routes) do
        if type(set) == "table" then
            for _, key in ipairs({ "default" }) do
                run_custom(set[key], 0)
            end
            for _, field in ipairs({ "map", "cmap" }) do
                if type(set[field]) == "table" then
                    for _, v in pairs(set[field]) do
                        if getmetatable(v) == CommandMap then
                            for _, c in pairs(v.entries) do
                                run_custom(c, 0)
                            end
                        else
                            run_custom(v, 0)
                        end
                    end
                end
            end
        end
    end
    return S
end

return finish, RouteConf, CommandMap, McpConst
