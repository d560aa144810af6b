//! What a config declared, as plain data: Lua values copied out of the VM
//! (`Lv`, with `Key` and `Table`), route calls, the local zone, notes, and
//! why a config stopped. The VM ([`super::vm`]) produces them; the model's
//! builder, the engine, the rules and the graph read them without knowing the
//! VM.

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
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
        let ints: std::collections::HashSet<i64> = self
            .entries
            .iter()
            .filter_map(|(k, _)| match k {
                Key::Int(i) => Some(*i),
                _ => None,
            })
            .collect();
        let mut n = 0;
        while ints.contains(&(n as i64 + 1)) {
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
    /// Files `dofile`/`loadfile` opened, by the path asked for: (path, name
    /// in messages, text).
    pub opened: Vec<(String, String, String)>,
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
