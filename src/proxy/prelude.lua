-- mclint's model of routelib's configuration-stage API (memcached 1.6.38).
--
-- This is not routelib: it records what a config declares so that mclint can
-- check it in Rust. Problems that routelib would only raise later (or never)
-- are recorded as notes instead of errors, so that one run reports them all.
--
-- Called with: line() -> caller's line in the config, env(name) -> value |
-- false (unknown: no container to read it from) | nil (unset), note(kind, line,
-- message).
local line, env, note, sandbox = ...

-- The sandbox around the config (see vm.rs). The hook counts instructions;
-- what C functions do inside one instruction is charged here, before they
-- run, so that no library call can run long or big unseen: each is bounded by
-- its result size, index range or (for patterns) subject length times pattern
-- cost, and the total goes into the same budget as the instructions.
do
    local charge, stop, stopped, rethrow, has_metatable = sandbox.charge, sandbox.stop,
        sandbox.stopped, sandbox.rethrow, sandbox.has_metatable
    local type, select, tostring, tonumber, error, rawget, rawset, rawlen =
        type, select, tostring, tonumber, error, rawget, rawset, rawlen
    local tointeger, huge = math.tointeger, math.huge
    local byte, sfind, format = string.byte, string.find, string.format
    local function count(x)
        return format("%.0f", x)
    end
    local rawpcall, rawxpcall, rawsetmetatable, rawload = pcall, xpcall, setmetatable, load

    -- A caught error is given back to the config, unless it is the sandbox's
    -- own limit: then the config does not run again.
    local function pass(ok, ...)
        if not ok then
            rethrow((...))
        end
        return ok, ...
    end
    pcall = function(...)
        return pass(rawpcall(...))
    end
    -- A message handler runs before the error unwinds, and Lua runs it with
    -- hooks off when the error came from the hook: after a limit, the
    -- config's handler is not called at all.
    xpcall = function(f, handler, ...)
        if type(handler) ~= "function" then
            return rawxpcall(f, handler, ...)
        end
        return pass(rawxpcall(f, function(e)
            if stopped() then
                return e
            end
            return handler(e)
        end, ...))
    end

    -- Finalizers run when the VM closes (or whenever the collector
    -- decides), outside any budget: an object is marked for finalization
    -- only by setmetatable with a __gc field present, so that is refused.
    setmetatable = function(t, mt)
        if type(t) == "table" and type(mt) == "table" and rawget(mt, "__gc") ~= nil then
            stop("setmetatable with a __gc field: mclint does not run finalizers (they would run "
                .. "outside its limits); remove __gc")
        end
        return rawsetmetatable(t, mt)
    end

    -- load returns an error raised by its reader instead of raising it.
    local function loaded(f, err)
        if f == nil then
            rethrow(err)
        end
        return f, err
    end

    -- Text only; a chunk named like a file ("=x", "@x") is renamed so that
    -- it can never pass for the config or a library in a message; the
    -- globals are the loaded chunk's environment unless one is given, as in
    -- standard Lua.
    load = function(chunk, name, mode, ...)
        if type(chunk) == "string" then
            charge(#chunk / 4 + 1, "load of a " .. #chunk .. "-byte chunk")
        elseif type(chunk) == "function" then
            local read = chunk
            chunk = function()
                local piece = read()
                if type(piece) == "string" then
                    charge(#piece / 4 + 1)
                end
                return piece
            end
        end
        if type(name) == "string" and (byte(name, 1) == 61 or byte(name, 1) == 64) then
            name = "=(load) " .. name:sub(2, 80)
        end
        return loaded(rawload(chunk, name, "t", ...))
    end

    -- dofile and loadfile, as the proxy's standard Lua has them, over the
    -- files mclint knows the proxy can open (sandbox.open: a file mounted
    -- into the proxy container, or one under the directory of a config given
    -- alone). Anything else fails the way a missing file does in the proxy,
    -- with mclint's reason. A file is text only; dofile nests at most
    -- MAX_DOFILE deep (a loop of dofiles ends in the proxy's C stack overflow).
    local open = sandbox.open
    local MAX_DOFILE = 32
    local dofile_chain = {}
    local function readfile(fn, path)
        if type(path) ~= "string" then
            return nil, fn .. " needs a file name, got " .. type(path)
                .. (path == nil and " (the proxy would read its standard input)" or "")
        end
        if open == nil then
            return nil, "cannot open " .. path .. ": no file is reachable here"
        end
        local name, text = open(path)
        if name == nil then
            return nil, "cannot open " .. path .. ": " .. text
        end
        charge(#text / 4 + 1, "loading the " .. #text .. "-byte file " .. name)
        if byte(text, 1) == 27 then
            return nil, "cannot load " .. name .. ": a precompiled chunk (mclint loads text only)"
        end
        return name, text
    end
    loadfile = function(path, mode, ...)
        local name, text = readfile("loadfile", path)
        if name == nil then
            return nil, text
        end
        if mode ~= nil and not (type(mode) == "string" and sfind(mode, "t", 1, true)) then
            return nil, "attempt to load a text chunk (mode is "
                .. (type(mode) == "string" and "'" .. mode .. "'" or "a " .. type(mode)) .. ")"
        end
        return loaded(rawload(text, "=" .. name, "t", ...))
    end
    local function undo(ok, ...)
        dofile_chain[#dofile_chain] = nil
        if not ok then
            rethrow((...))
            error((...), 0)
        end
        return ...
    end
    dofile = function(path)
        local name, text = readfile("dofile", path)
        if name == nil then
            error(text, 2)
        end
        if #dofile_chain >= MAX_DOFILE then
            error(format("dofile nested more than %d files deep (%s -> %s ...): a loop of dofiles? "
                .. "The proxy refuses such a config with `C stack overflow`",
                MAX_DOFILE, dofile_chain[1], dofile_chain[2] or name), 2)
        end
        local f, err = rawload(text, "=" .. name, "t")
        if f == nil then
            rethrow(err)
            error(err, 0)
        end
        dofile_chain[#dofile_chain + 1] = name
        return undo(rawpcall(f))
    end

    local function int(x)
        local n = tonumber(x)
        return n and tointeger(n)
    end
    local function slen(x)
        local t = type(x)
        if t == "string" then
            return #x
        elseif t == "number" then
            return #tostring(x)
        end
    end
    local function args_len(...)
        local total = 0
        for i = 1, select("#", ...) do
            total = total + (slen((select(i, ...))) or 0)
        end
        return total
    end

    -- Work of a Lua pattern match: every start position (one if anchored),
    -- times the subject length for each repetition, balance (%b) or back
    -- reference, times 2 for each optional item, times the pattern length.
    local function class_end(p, i, len)
        local j = i + 1
        if byte(p, j) == 94 then
            j = j + 1
        end
        repeat
            if j > len then
                return len + 1
            end
            local c = byte(p, j)
            j = j + 1
            if c == 37 and j <= len then
                j = j + 1
            end
        until byte(p, j) == 93
        return j + 1
    end
    local function pattern_cost(n, p, anchor_ok)
        local len, i, q, opt = #p, 1, 0, 0
        local anchored = false
        if anchor_ok and byte(p, 1) == 94 then
            anchored, i = true, 2
        end
        while i <= len do
            local c = byte(p, i)
            local item_end
            if c == 40 or c == 41 then
                i = i + 1
            elseif c == 37 then
                local d = byte(p, i + 1)
                if d == 98 then
                    q, i = q + 1, i + 4
                elseif d == 102 then
                    if byte(p, i + 2) == 91 then
                        i = class_end(p, i + 2, len)
                    else
                        i = i + 2
                    end
                elseif d and d >= 48 and d <= 57 then
                    q, i = q + 1, i + 2
                else
                    item_end = i + 2
                end
            elseif c == 91 then
                item_end = class_end(p, i, len)
            else
                item_end = i + 1
            end
            if item_end then
                local m = byte(p, item_end)
                if m == 42 or m == 43 or m == 45 then
                    q, i = q + 1, item_end + 1
                elseif m == 63 then
                    opt, i = opt + 1, item_end + 1
                else
                    i = item_end
                end
            end
        end
        return (anchored and 1 or n + 1) * (n + 1) ^ q * 2 ^ opt * (len + 1)
    end
    -- As Lua's own test for a pattern without magic characters: a byte
    -- search per character (a pattern class would scan the needle slowly).
    local SPECIALS = { "^", "$", "*", "+", "?", ".", "(", ")", "[", "]", "%", "-" }
    local function nospecials(p)
        for i = 1, #SPECIALS do
            if sfind(p, SPECIALS[i], 1, true) then
                return false
            end
        end
        return true
    end
    for _, name in ipairs({ "find", "match", "gmatch", "gsub" }) do
        local f = string[name]
        local anchor_ok = name ~= "gmatch"
        string[name] = function(s, p, ...)
            local n, m = slen(s), slen(p)
            if n and m then
                p = tostring(p)
                local cost
                if name == "find" and (select(2, ...) or nospecials(p)) then
                    -- A plain search: a byte compare of the needle at each position.
                    cost = m <= n and (n - m + 1) * (m // 16 + 1) or 1
                else
                    cost = pattern_cost(n, p, anchor_ok) / 8
                end
                cost = cost + m
                if cost > 1e6 then
                    charge(cost, "string." .. name .. " with a " .. m .. "-byte pattern on a "
                        .. n .. "-byte string")
                else
                    charge(cost)
                end
            end
            return f(s, p, ...)
        end
    end

    local function wrap(lib, name, cost_of)
        local f = lib[name]
        lib[name] = function(...)
            local cost = cost_of(...)
            if cost then
                if cost > 1e6 then
                    charge(cost, name)
                else
                    charge(cost)
                end
            end
            return f(...)
        end
    end
    local function linear(s)
        local n = slen(s)
        return n and n / 64 + 1
    end
    wrap(string, "rep", function(s, n, sep)
        local k, a, b = int(n), slen(s), sep == nil and 0 or slen(sep)
        if k and a and b and k > 0 then
            return k / 8 + k * (a + b) / 64
        end
    end)
    for _, name in ipairs({ "sub", "upper", "lower", "reverse" }) do
        wrap(string, name, linear)
    end
    wrap(string, "byte", function(s)
        local n = slen(s)
        return n and n / 8 + 1
    end)
    wrap(string, "char", function(...)
        return select("#", ...) + 1
    end)
    wrap(string, "format", function(...)
        return args_len(...) / 64 + select("#", ...)
    end)
    wrap(string, "pack", function(...)
        return args_len(...) / 64 + select("#", ...)
    end)
    wrap(string, "packsize", linear)
    wrap(string, "unpack", function(fmt, s)
        return ((slen(fmt) or 0) + (slen(s) or 0)) / 64 + (slen(fmt) or 0)
    end)
    wrap(utf8, "char", function(...)
        return select("#", ...) + 1
    end)
    for _, name in ipairs({ "len", "codepoint", "offset" }) do
        wrap(utf8, name, function(s)
            local n = slen(s)
            return n and n / 16 + 1
        end)
    end

    -- Table functions: on tables without metatables (the usual case) the C
    -- function runs, charged for its index range; a metatable (a __len that
    -- lies, an __index chain) makes each access run config code or a long
    -- lookup, so the work is done here in Lua, where the hook counts it.
    local tinsert, tremove, tmove, tconcat, tunpack, tsort =
        table.insert, table.remove, table.move, table.concat, table.unpack, table.sort
    local function argint(x, i, fname)
        local n = int(x)
        if n == nil then
            error("bad argument #" .. i .. " to '" .. fname .. "' (number expected, got "
                .. (type(x) == "number" and "a float" or type(x)) .. ")", 3)
        end
        return n
    end
    table.insert = function(t, ...)
        local nargs = select("#", ...)
        if type(t) ~= "table" then
            return tinsert(t, ...)
        end
        if not has_metatable(t) then
            if nargs == 2 then
                local pos = int((...))
                if pos then
                    charge(rawlen(t) + 2.0 - pos)
                end
            end
            return tinsert(t, ...)
        end
        local e = #t + 1
        if nargs == 1 then
            t[e] = ...
        elseif nargs == 2 then
            local pos, v = ...
            pos = argint(pos, 2, "insert")
            if pos < 1 or pos > e then
                error("bad argument #2 to 'insert' (position out of bounds)", 2)
            end
            for i = e, pos + 1, -1 do
                t[i] = t[i - 1]
            end
            t[pos] = v
        else
            error("wrong number of arguments to 'insert'", 2)
        end
    end
    table.remove = function(t, ...)
        if type(t) ~= "table" then
            return tremove(t, ...)
        end
        if not has_metatable(t) then
            local pos = select("#", ...) > 0 and int((...)) or rawlen(t)
            if pos then
                charge(rawlen(t) + 1.0 - pos)
            end
            return tremove(t, ...)
        end
        local size = #t
        local pos = size
        if select("#", ...) > 0 and (...) ~= nil then
            pos = argint((...), 2, "remove")
        end
        if pos ~= size and (pos < 1 or pos > size + 1) then
            error("bad argument #2 to 'remove' (position out of bounds)", 2)
        end
        local v = t[pos]
        while pos < size do
            t[pos] = t[pos + 1]
            pos = pos + 1
        end
        t[pos] = nil
        return v
    end
    table.move = function(a1, f, e, to, a2)
        if a2 == nil then
            a2 = a1
        end
        if type(a1) ~= "table" or type(a2) ~= "table" or not (has_metatable(a1) or has_metatable(a2)) then
            local fi, ei = int(f), int(e)
            if fi and ei then
                charge(ei + 1.0 - fi, "table.move over " .. count(ei + 1.0 - fi) .. " positions")
            end
            return tmove(a1, f, e, to, a2)
        end
        f, e, to = argint(f, 2, "move"), argint(e, 3, "move"), argint(to, 4, "move")
        if e >= f then
            if to > e or to <= f or a1 ~= a2 then
                for i = 0, e - f do
                    a2[to + i] = a1[f + i]
                end
            else
                for i = e - f, 0, -1 do
                    a2[to + i] = a1[f + i]
                end
            end
        end
        return a2
    end
    table.concat = function(t, sep, i, j)
        if type(t) ~= "table" or not has_metatable(t) then
            if type(t) == "table" then
                local a, b = i == nil and 1 or int(i), j == nil and rawlen(t) or int(j)
                if a and b then
                    charge(b + 1.0 - a, "table.concat over " .. count(b + 1.0 - a) .. " positions")
                end
            end
            return tconcat(t, sep, i, j)
        end
        i = i == nil and 1 or argint(i, 3, "concat")
        j = j == nil and #t or argint(j, 4, "concat")
        local parts = {}
        for k = i, j do
            local v = t[k]
            if type(v) ~= "string" and type(v) ~= "number" then
                error("invalid value (at index " .. k .. ") in table for 'concat'", 2)
            end
            parts[#parts + 1] = v
        end
        return tconcat(parts, sep)
    end
    table.unpack = function(t, i, j)
        if type(t) ~= "table" or not has_metatable(t) then
            if type(t) == "table" then
                local a, b = i == nil and 1 or int(i), j == nil and rawlen(t) or int(j)
                if a and b then
                    charge(b + 1.0 - a, "table.unpack over " .. count(b + 1.0 - a) .. " positions")
                end
            end
            return tunpack(t, i, j)
        end
        i = i == nil and 1 or argint(i, 2, "unpack")
        j = j == nil and #t or argint(j, 3, "unpack")
        if j >= i and j - i >= 1000000 then
            error("too many results to unpack", 2)
        end
        local parts = {}
        for k = i, j do
            parts[k - i + 1] = t[k]
        end
        return tunpack(parts, 1, j >= i and j - i + 1 or 0)
    end
    table.sort = function(t, comp)
        if type(t) ~= "table" then
            return tsort(t, comp)
        end
        local plain = not has_metatable(t)
        local n = plain and rawlen(t) or #t
        if type(n) ~= "number" or n >= 2147483647 then
            error("bad argument #1 to 'sort' (array too big)", 2)
        end
        local log = 1
        while 2 ^ log < n do
            log = log + 1
        end
        charge(n * log + 1.0, "table.sort of " .. count(n) .. " elements")
        if plain then
            return tsort(t, comp)
        end
        local copy = {}
        for k = 1, n do
            copy[k] = t[k]
        end
        tsort(copy, comp)
        for k = 1, n do
            t[k] = copy[k]
        end
    end
end
-- The prelude's own pcall, whatever the config does to the global.
local pcall = pcall

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
-- A route table reached twice (a shared child) is prepared once.
local seen = {}
local function run_custom(r, depth)
    if depth > 64 or type(r) ~= "table" or getmetatable(r) ~= RouteConf or seen[r] then
        return
    end
    seen[r] = true
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
                -- Never the error's __tostring (config code) or a heap address.
                note("custom-conf", r.line, type(err) == "string" and err
                    or "error object is a " .. type(err) .. " value")
            elseif err ~= nil then
                r.a = err
            end
            -- The proxy's worker threads run the start function; they load
            -- the proxy_config files, not the config itself.
            if not sandbox.in_library(rawget(_G, "route_" .. r.f .. "_start")) then
                note("custom-conf", r.line, "route_" .. r.f .. "_start is not defined by a "
                    .. "library: the proxy's worker threads load only the proxy_config files, "
                    .. "not the config (proxy_arg), so the proxy does not start (\"local 'f' is "
                    .. "not callable\"); move the handler into a library")
            end
        else
            note("custom-conf", r.line, "route_" .. r.f .. "_conf is not defined")
        end
    end
end

local function finish()
    if next(S.custom) == nil then
        return S
    end
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

return finish, RouteConf, CommandMap, McpConst, S
