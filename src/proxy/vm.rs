//! Runs a routelib config in a sandboxed Lua 5.4 VM with mclint's own model of
//! routelib's configuration API (`prelude.lua`), and copies what it declared
//! into Rust values ([`Lv`]).
//!
//! The sandbox has only the base, table, string, math and utf8 libraries, minus
//! `dofile`, `loadfile`, `collectgarbage` and `string.dump`; `load` accepts text
//! only; `print` prints nothing. A count hook stops a config that runs more
//! than [`Limits::instructions`] VM instructions or longer than
//! [`Limits::time`], and the allocator refuses memory past [`Limits::memory`].

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;
use std::time::{Duration, Instant};

use mlua::{HookTriggers, Lua, LuaOptions, StdLib, Table as LuaTable, Value, VmState};

const PRELUDE: &str = include_str!("prelude.lua");
const PRELUDE_NAME: &str = "=mclint-routelib-model";

/// How far a config may go before it is stopped.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub instructions: u64,
    pub memory: usize,
    pub time: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            instructions: 20_000_000,
            memory: 64 << 20,
            time: Duration::from_millis(800),
        }
    }
}

/// Where `local_zone_from_env` (and `os.getenv`) read from.
#[derive(Debug, Clone, Default)]
pub enum EnvSource {
    /// A config file given alone: the environment is not known, so the zone is
    /// left unresolved instead of failing.
    #[default]
    Unknown,
    /// The container's literal `env` entries.
    Known(BTreeMap<String, String>),
}

/// A Lua value copied out of the VM.
#[derive(Debug, Clone, PartialEq)]
pub enum Lv {
    Nil,
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(String),
    Table(Table),
    /// The result of a `route_*{}` call.
    Route(Box<RouteCall>),
    /// The result of `cmdmap{}`.
    CmdMap(Table, Option<u32>),
    /// `mcp.hash_xxhash`, `mcp.dist_jump_hash`, ...
    Const(String),
    /// Functions, userdata and threads: only their type name.
    Other(&'static str),
}

impl Lv {
    pub fn type_name(&self) -> &'static str {
        match self {
            Lv::Nil => "nil",
            Lv::Bool(_) => "boolean",
            Lv::Int(_) | Lv::Num(_) => "number",
            Lv::Str(_) => "string",
            Lv::Table(_) => "table",
            Lv::Route(_) => "route",
            Lv::CmdMap(..) => "cmdmap",
            Lv::Const(_) => "mcp constant",
            Lv::Other(t) => t,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Lv::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_table(&self) -> Option<&Table> {
        match self {
            Lv::Table(t) => Some(t),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Lv::Int(i) => Some(*i as f64),
            Lv::Num(n) => Some(*n),
            _ => None,
        }
    }

    /// Lua truthiness.
    pub fn truthy(&self) -> bool {
        !matches!(self, Lv::Nil | Lv::Bool(false))
    }

    /// How a short value reads in a message.
    pub fn show(&self) -> String {
        match self {
            Lv::Str(s) => format!("\"{s}\""),
            Lv::Int(i) => i.to_string(),
            Lv::Num(n) => n.to_string(),
            Lv::Bool(b) => b.to_string(),
            Lv::Nil => "nil".into(),
            Lv::Route(r) => format!("route_{}{{...}}", r.handler),
            Lv::Const(c) => format!("mcp.{c}"),
            other => format!("a {}", other.type_name()),
        }
    }
}

/// A table key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    Int(i64),
    Str(String),
    /// Any other key (boolean, float, table...): its description.
    Other(String),
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::Int(i) => write!(f, "[{i}]"),
            Key::Str(s) => f.write_str(s),
            Key::Other(s) => write!(f, "[{s}]"),
        }
    }
}

/// A table: entries sorted (integer keys ascending, then string keys), so
/// every walk over it is deterministic.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub entries: Vec<(Key, Lv)>,
}

impl Table {
    pub fn get(&self, key: &str) -> Option<&Lv> {
        self.entries
            .iter()
            .find(|(k, _)| matches!(k, Key::Str(s) if s == key))
            .map(|(_, v)| v)
    }

    /// Keys 1..n with nothing else: a Lua list, walked in order by `pairs`.
    pub fn is_list(&self) -> bool {
        self.entries
            .iter()
            .enumerate()
            .all(|(i, (k, _))| *k == Key::Int(i as i64 + 1))
    }

    /// The length operator `#` on this table (its border, for a proper list).
    pub fn len(&self) -> usize {
        let mut n = 0;
        while self
            .entries
            .iter()
            .any(|(k, _)| *k == Key::Int(n as i64 + 1))
        {
            n += 1;
        }
        n
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn str_keys(&self) -> impl Iterator<Item = (&str, &Lv)> {
        self.entries.iter().filter_map(|(k, v)| match k {
            Key::Str(s) => Some((s.as_str(), v)),
            _ => None,
        })
    }
}

/// A `route_<handler>{...}` call.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteCall {
    pub handler: String,
    /// What was passed (normally a table).
    pub args: Lv,
    pub line: Option<u32>,
    /// routelib 1.6.38 defines no such handler and no library registered it.
    pub unknown: bool,
}

/// A local zone as the config set it.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneDecl {
    /// `None` when it is read at run time (a file, or an env var mclint cannot see).
    pub value: Option<String>,
    pub from: String,
    pub arg: Option<String>,
    pub line: Option<u32>,
}

/// Something the prelude noticed while the config ran.
#[derive(Debug, Clone, PartialEq)]
pub struct VmNote {
    pub kind: String,
    pub line: Option<u32>,
    pub message: String,
}

/// Everything a config declared.
#[derive(Debug, Clone, Default)]
pub struct Declared {
    /// name -> (conf, line of the pools{} call).
    pub pools: Vec<(Key, Lv, Option<u32>)>,
    /// tag -> (routes{} argument, line).
    pub routes: Vec<(Key, Lv, Option<u32>)>,
    pub settings: Option<(Lv, Option<u32>)>,
    pub zone: Option<ZoneDecl>,
    pub custom_handlers: Vec<String>,
    pub verbose: bool,
    pub debug: bool,
    pub notes: Vec<VmNote>,
}

/// Why a config did not run to the end.
#[derive(Debug, Clone, PartialEq)]
pub struct LuaFailure {
    /// The file (config or library) the error is in.
    pub file: String,
    pub line: Option<u32>,
    pub message: String,
    /// Stopped by a sandbox limit (time, instructions or memory).
    pub limit: bool,
}

/// Source text of one chunk: a library from `proxy_config` or the config.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

/// Runs `libs` then `config`; returns what was declared, or why it failed (with
/// what was declared up to that point).
pub fn run(
    config: Chunk,
    libs: &[Chunk],
    env: &EnvSource,
    limits: Limits,
) -> (Declared, Option<LuaFailure>) {
    match run_inner(config, libs, env, limits) {
        Ok(x) => x,
        Err(e) => (
            Declared::default(),
            Some(LuaFailure {
                file: config.name.to_string(),
                line: None,
                message: format!("the Lua sandbox could not start: {e}"),
                limit: false,
            }),
        ),
    }
}

type Notes = Rc<RefCell<Vec<VmNote>>>;

fn run_inner(
    config: Chunk,
    libs: &[Chunk],
    env: &EnvSource,
    limits: Limits,
) -> mlua::Result<(Declared, Option<LuaFailure>)> {
    let lua = Lua::new_with(
        StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::UTF8,
        LuaOptions::default(),
    )?;
    let globals = lua.globals();
    for name in ["dofile", "loadfile", "collectgarbage", "require"] {
        globals.raw_set(name, Value::Nil)?;
    }
    let string: LuaTable = globals.get("string")?;
    string.raw_set("dump", Value::Nil)?;
    globals.raw_set(
        "print",
        lua.create_function(|_, _: mlua::MultiValue| Ok(()))?,
    )?;
    let raw_load: mlua::Function = globals.get("load")?;
    let text_load = lua.create_function(
        move |_, (chunk, name, _mode, env): (Value, Value, Value, Value)| {
            raw_load.call::<mlua::MultiValue>((chunk, name, "t", env))
        },
    )?;
    globals.raw_set("load", text_load)?;
    let os = lua.create_table()?;
    let env_map = match env {
        EnvSource::Known(m) => Some(m.clone()),
        EnvSource::Unknown => None,
    };
    let getenv_map = env_map.clone();
    os.raw_set(
        "getenv",
        lua.create_function(move |_, name: String| {
            Ok(getenv_map.as_ref().and_then(|m| m.get(&name).cloned()))
        })?,
    )?;
    globals.raw_set("os", os)?;

    let chunk_names: Rc<Vec<String>> = Rc::new(
        libs.iter()
            .map(|c| format!("={}", c.name))
            .chain(std::iter::once(format!("={}", config.name)))
            .collect(),
    );
    let config_source = format!("={}", config.name);
    let line_fn = {
        let config_source = config_source.clone();
        lua.create_function(move |lua, ()| {
            // The first frame in the config itself; else the first in any user chunk.
            let mut fallback = None;
            for level in 1..64 {
                let Some((src, line)) = lua.inspect_stack(level, |d| {
                    (d.source().source.map(|s| s.into_owned()), d.current_line())
                }) else {
                    break;
                };
                let Some(src) = src else { continue };
                if src == config_source {
                    return Ok(line.map(|l| l as u32));
                }
                if src != PRELUDE_NAME && fallback.is_none() && line.is_some() {
                    fallback = line.map(|l| l as u32);
                }
            }
            Ok(fallback)
        })?
    };
    let env_fn = {
        let env_map = env_map.clone();
        lua.create_function(move |lua, name: Value| {
            let name = match name {
                Value::String(s) => s.to_string_lossy(),
                _ => return Ok(Value::Nil),
            };
            Ok(match &env_map {
                None => Value::Boolean(false),
                Some(m) => match m.get(&name) {
                    Some(v) => Value::String(lua.create_string(v)?),
                    None => Value::Nil,
                },
            })
        })?
    };
    let notes: Notes = Rc::new(RefCell::new(Vec::new()));
    let note_fn = {
        let notes = notes.clone();
        lua.create_function(
            move |_, (kind, line, message): (String, Option<u32>, String)| {
                notes.borrow_mut().push(VmNote {
                    kind,
                    line,
                    message,
                });
                Ok(())
            },
        )?
    };

    let prelude: mlua::MultiValue = lua
        .load(PRELUDE)
        .set_name(PRELUDE_NAME)
        .call((line_fn, env_fn, note_fn))?;
    let mut it = prelude.into_iter();
    let finish = match it.next() {
        Some(Value::Function(f)) => f,
        _ => {
            return Err(mlua::Error::runtime(
                "prelude did not return its finish function",
            ));
        }
    };
    let metas = Metas {
        route: table_of(it.next())?,
        cmdmap: table_of(it.next())?,
        constant: table_of(it.next())?,
    };

    // Limits apply to user code only.
    lua.set_memory_limit(limits.memory)?;
    let started = Instant::now();
    let count = Rc::new(RefCell::new(0u64));
    // Where user code was when the hook last ran (an index into chunk_names
    // and a line): a limit hit there is reported at that line (a memory error
    // carries no position of its own). Nothing is allocated per hook call.
    let last_at: Rc<RefCell<Option<(usize, u32)>>> = Rc::new(RefCell::new(None));
    let step = 1000u32;
    {
        let count = count.clone();
        let last_at = last_at.clone();
        let chunk_names = chunk_names.clone();
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(step),
            move |_, debug| {
                let src = debug.source();
                if let (Some(name), Some(line)) = (src.source.as_deref(), debug.current_line())
                    && let Some(i) = chunk_names.iter().position(|n| n == name)
                {
                    *last_at.borrow_mut() = Some((i, u32::try_from(line).unwrap_or(u32::MAX)));
                }
                let mut c = count.borrow_mut();
                *c += u64::from(step);
                let stop = if *c > limits.instructions {
                    format!(
                        "the config ran more than {} Lua instructions (an endless loop?)",
                        limits.instructions
                    )
                } else if started.elapsed() > limits.time {
                    format!(
                        "the config ran longer than {} ms (an endless loop?)",
                        limits.time.as_millis()
                    )
                } else {
                    return Ok(VmState::Continue);
                };
                let at = last_at
                    .borrow()
                    .map(|(i, l)| format!("{}:{l}: ", &chunk_names[i][1..]))
                    .unwrap_or_default();
                Err(mlua::Error::runtime(format!("{at}mclint sandbox: {stop}")))
            },
        )?;
    }

    let last_position = || {
        last_at
            .borrow()
            .map(|(i, l)| (chunk_names[i][1..].to_string(), l))
    };
    let mut failure = None;
    for chunk in libs.iter().chain(std::iter::once(&config)) {
        let r = lua
            .load(chunk.text)
            .set_name(format!("={}", chunk.name))
            .set_mode(mlua::chunk::ChunkMode::Text)
            .exec();
        if let Err(e) = r {
            failure = Some(failure_of(&e, chunk.name, &chunk_names, last_position()));
            break;
        }
    }
    let state: Value = match finish.call::<Value>(()) {
        Ok(v) => v,
        Err(e) => {
            if failure.is_none() {
                failure = Some(failure_of(&e, config.name, &chunk_names, last_position()));
            }
            Value::Nil
        }
    };
    lua.remove_hook();
    // Copying out may allocate; the config is done, so lift the limit.
    let _ = lua.set_memory_limit(0);
    let mut declared = Declared::default();
    if let Value::Table(s) = state {
        let mut conv = Converter {
            metas: &metas,
            path: HashSet::new(),
        };
        declared.pools = keyed(&mut conv, &s, "pools", "pool_lines")?;
        declared.routes = keyed(&mut conv, &s, "routes", "route_lines")?;
        let settings: Value = s.get("settings")?;
        if !settings.is_nil() {
            declared.settings = Some((
                conv.value(&settings, 0),
                s.get::<Option<u32>>("settings_line")?,
            ));
        }
        if let Value::Table(z) = s.get::<Value>("zone")? {
            declared.zone = Some(ZoneDecl {
                value: match z.get::<Value>("value")? {
                    Value::String(v) => Some(v.to_string_lossy()),
                    Value::Nil | Value::Boolean(false) => None,
                    other => Some(conv.value(&other, 0).show()),
                },
                from: z.get::<Option<String>>("from")?.unwrap_or_default(),
                arg: match z.get::<Value>("arg")? {
                    Value::String(v) => Some(v.to_string_lossy()),
                    _ => None,
                },
                line: z.get::<Option<u32>>("line")?,
            });
        }
        if let Value::Table(c) = s.get::<Value>("custom")? {
            for pair in c.pairs::<Value, Value>() {
                let (k, _) = pair?;
                if let Value::String(k) = k {
                    declared.custom_handlers.push(k.to_string_lossy());
                }
            }
            declared.custom_handlers.sort();
        }
        declared.verbose = s.get::<Value>("verbose")?.as_boolean().unwrap_or(false);
        declared.debug = s.get::<Value>("debug")?.as_boolean().unwrap_or(false);
    }
    declared.notes = notes.borrow().clone();
    Ok((declared, failure))
}

fn table_of(v: Option<Value>) -> mlua::Result<LuaTable> {
    match v {
        Some(Value::Table(t)) => Ok(t),
        _ => Err(mlua::Error::runtime(
            "prelude did not return its metatables",
        )),
    }
}

fn keyed(
    conv: &mut Converter,
    state: &LuaTable,
    field: &str,
    lines: &str,
) -> mlua::Result<Vec<(Key, Lv, Option<u32>)>> {
    let t: LuaTable = state.get(field)?;
    let l: LuaTable = state.get(lines)?;
    let mut out = Vec::new();
    for pair in t.pairs::<Value, Value>() {
        let (k, v) = pair?;
        let line: Option<u32> = l.get(k.clone()).ok().flatten();
        out.push((conv.key(&k), conv.value(&v, 0), line));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

struct Metas {
    route: LuaTable,
    cmdmap: LuaTable,
    constant: LuaTable,
}

const MAX_DEPTH: usize = 64;

struct Converter<'a> {
    metas: &'a Metas,
    /// Tables on the current path (cycle guard).
    path: HashSet<usize>,
}

impl Converter<'_> {
    fn key(&self, k: &Value) -> Key {
        match k {
            Value::Integer(i) => Key::Int(*i),
            Value::String(s) => Key::Str(s.to_string_lossy()),
            Value::Number(n) => Key::Other(n.to_string()),
            Value::Boolean(b) => Key::Other(b.to_string()),
            other => Key::Other(other.type_name().to_string()),
        }
    }

    fn value(&mut self, v: &Value, depth: usize) -> Lv {
        match v {
            Value::Nil => Lv::Nil,
            Value::Boolean(b) => Lv::Bool(*b),
            Value::Integer(i) => Lv::Int(*i),
            Value::Number(n) => Lv::Num(*n),
            Value::String(s) => Lv::Str(s.to_string_lossy()),
            Value::Table(t) => self.table_value(t, depth),
            Value::Function(_) => Lv::Other("function"),
            Value::Thread(_) => Lv::Other("thread"),
            Value::UserData(_) | Value::LightUserData(_) => Lv::Other("userdata"),
            _ => Lv::Other("value"),
        }
    }

    fn table_value(&mut self, t: &LuaTable, depth: usize) -> Lv {
        if depth > MAX_DEPTH {
            return Lv::Other("table nested too deep");
        }
        let ptr = t.to_pointer() as usize;
        if !self.path.insert(ptr) {
            return Lv::Other("table that contains itself");
        }
        let out = match t.metatable() {
            Some(m) if m == self.metas.route => {
                let handler: String = t.raw_get("f").unwrap_or_default();
                let args: Value = t.raw_get("a").unwrap_or(Value::Nil);
                Lv::Route(Box::new(RouteCall {
                    handler,
                    args: self.value(&args, depth + 1),
                    line: t.raw_get::<Option<u32>>("line").ok().flatten(),
                    unknown: t.raw_get::<bool>("unknown").unwrap_or(false),
                }))
            }
            Some(m) if m == self.metas.cmdmap => {
                let entries: Value = t.raw_get("entries").unwrap_or(Value::Nil);
                let line = t.raw_get::<Option<u32>>("line").ok().flatten();
                match self.value(&entries, depth + 1) {
                    Lv::Table(e) => Lv::CmdMap(e, line),
                    _ => Lv::CmdMap(Table::default(), line),
                }
            }
            Some(m) if m == self.metas.constant => {
                Lv::Const(t.raw_get::<String>("name").unwrap_or_default())
            }
            _ => {
                let mut entries = Vec::new();
                for (k, v) in t.pairs::<Value, Value>().flatten() {
                    let key = self.key(&k);
                    let val = self.value(&v, depth + 1);
                    entries.push((key, val));
                }
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Lv::Table(Table { entries })
            }
        };
        self.path.remove(&ptr);
        out
    }
}

fn failure_of(
    e: &mlua::Error,
    current: &str,
    names: &[String],
    last_at: Option<(String, u32)>,
) -> LuaFailure {
    let limit =
        matches!(e, mlua::Error::MemoryError(_)) || e.to_string().contains("mclint sandbox:");
    let text = match e {
        mlua::Error::MemoryError(_) => {
            "mclint sandbox: the config allocated more memory than allowed (a runaway table or string?)".to_string()
        }
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::CallbackError { cause, .. } => {
            return failure_of(cause, current, names, last_at);
        }
        mlua::Error::RuntimeError(m) => m.clone(),
        other => other.to_string(),
    };
    // Messages read "name:LINE: text" (chunk names are given as "=name").
    let first = text.lines().next().unwrap_or("").to_string();
    for n in names {
        let plain = &n[1..];
        if let Some(rest) = first.strip_prefix(&format!("{plain}:"))
            && let Some((num, msg)) = rest.split_once(':')
            && let Ok(line) = num.parse::<u32>()
        {
            return LuaFailure {
                file: plain.to_string(),
                line: Some(line),
                message: msg.trim().to_string(),
                limit,
            };
        }
    }
    // A memory limit has no position: the last line the hook saw running.
    if limit && let Some((file, line)) = last_at {
        return LuaFailure {
            file,
            line: Some(line),
            message: first.trim().to_string(),
            limit,
        };
    }
    LuaFailure {
        file: current.to_string(),
        line: None,
        message: first.trim().to_string(),
        limit,
    }
}
