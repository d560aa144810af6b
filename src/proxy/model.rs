//! The proxy model: what a routelib config builds, as Rust data.
//!
//! [`build`] applies routelib 1.6.38's configuration semantics (pool sets,
//! backend strings, pool options, router maps, child resolution) to what the
//! sandboxed VM recorded. Where routelib walks a table with `pairs()` (order
//! unspecified) the model sorts keys, so it is deterministic; rules report
//! those places.

use super::api::{self, MissingArg};
pub use super::hash::KeyFilter;
use super::lines::LineIndex;
use super::value::{Key, LuaFailure, Lv, Table, ZoneDecl};

/// Memcached command ids, as the proxy numbers them (`proxy.h`).
pub const COMMANDS: &[(&str, u8)] = &[
    ("mg", 1),
    ("ms", 2),
    ("md", 3),
    ("mn", 4),
    ("ma", 5),
    ("me", 6),
    ("get", 7),
    ("gat", 8),
    ("set", 9),
    ("add", 10),
    ("cas", 11),
    ("gets", 12),
    ("gats", 13),
    ("incr", 14),
    ("decr", 15),
    ("touch", 16),
    ("append", 17),
    ("delete", 18),
    ("replace", 19),
    ("prepend", 20),
];
/// `CMD_ANY_STORAGE`: `all` in a cmdmap.
pub const CMD_ANY_STORAGE: u8 = 38;
/// One past the last storage command (`CMD_END_STORAGE`).
pub const CMD_END_STORAGE: u8 = 21;

pub fn command_id(name: &str) -> Option<u8> {
    if name == "all" {
        return Some(CMD_ANY_STORAGE);
    }
    COMMANDS.iter().find(|(n, _)| *n == name).map(|(_, id)| *id)
}

pub fn command_name(id: u8) -> String {
    if id == CMD_ANY_STORAGE {
        return "all".into();
    }
    COMMANDS
        .iter()
        .find(|(_, i)| *i == id)
        .map(|(n, _)| n.to_string())
        .unwrap_or_else(|| format!("command {id}"))
}

/// Reads (the commands whose miss is a miss) vs the rest.
pub fn is_read(id: u8) -> bool {
    matches!(id, 1 | 7 | 8 | 12 | 13)
}

/// Commands route_ttl handles (ms, set, add, cas): it rewrites their TTL.
pub fn is_ttl_command(id: u8) -> bool {
    matches!(id, 2 | 9 | 10 | 11)
}

/// How a problem found while building the model is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// routelib or the proxy refuses the config (no more specific rule).
    Refused,
    /// A command name routelib does not know, in a cmdmap or routes cmap.
    UnknownCommand,
    /// A handler added by a library failed its own `_conf` check.
    CustomConf,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub line: Option<u32>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dist {
    Jump,
    Ring,
    /// Something mclint cannot place keys with.
    Other(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Backend {
    /// As written (`host:port`, or `host:port` built from a table).
    pub written: String,
    pub host: String,
    pub port: String,
    pub label: String,
    pub down: bool,
    pub table_form: bool,
    /// The backend's own table (table form) merged over backend_options.
    pub fields: Table,
    /// Why routelib or the proxy rejects it.
    pub problem: Option<String>,
    pub line: Option<u32>,
}

impl Backend {
    /// `host:port`.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// `host:port`, with ` (down)` for a backend marked down: keys placed
    /// on it get SERVER_ERROR, so marking a backend down loses its keys as
    /// surely as removing it (what `mclint diff` counts).
    pub fn identity(&self) -> String {
        if self.down {
            format!("{} (down)", self.address())
        } else {
            self.address()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendsForm {
    List,
    /// A map: routelib walks it with pairs(), so the order is unspecified.
    Map,
    Missing,
    NotTable,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pool {
    /// The pool's name, or the zone's name within its set.
    pub name: String,
    pub set: Option<String>,
    pub line: Option<u32>,
    /// The pool's table as written.
    pub conf: Lv,
    pub backends: Vec<Backend>,
    pub backends_form: BackendsForm,
    /// `options` as written here (global `pool_options` are in `effective`).
    pub options: Table,
    /// Global pool_options overlaid by `options`.
    pub effective: Table,
    pub backend_options: Table,
    pub seed: Option<String>,
    /// XXH3-64 of the seed string; 0 when unseeded.
    pub seed_hash: u64,
    pub filter: KeyFilter,
    pub dist: Dist,
}

impl Pool {
    /// How routes name it: `cache`, or `set_main_zone` for a zone of a set.
    pub fn reference(&self) -> String {
        match &self.set {
            Some(set) => format!("{set}_{}", self.name),
            None => self.name.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PoolSet {
    pub name: String,
    pub line: Option<u32>,
    /// Indices into `ProxyConfig::pools`, zones sorted by name (an array
    /// set's by index).
    pub zones: Vec<usize>,
    /// Written as an array (`set_x = { {...}, {...} }`): zones are 1, 2, ...
    /// and walked in that order.
    pub array: bool,
}

/// What a child argument names.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Pool(usize),
    /// The proxy's internal cache (`"internal"`).
    Internal,
    /// A whole pool set (only `children = "set_x"` may name one).
    Set(String),
    Route(Box<Route>),
    /// A name that resolves to nothing: (name, why).
    Missing(String, String),
    /// Not a string or a route: its description.
    Invalid(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListForm {
    /// `{ "a", "b" }`: walked in order.
    List,
    /// `{ x = "a", y = "b" }`: pairs() order, unspecified.
    Map,
    /// `children = "set_x"`: the set's zones, pairs() order, unspecified.
    Set,
    /// `children = "set_x"` where `set_x` is an array of pools
    /// (`set_x = { {...}, {...} }`): routelib copies it with `pairs()`, which
    /// walks an array's part in index order, so every worker thread takes the
    /// array's order (measured with the real 1.6.38 proxy).
    ArraySet,
}

impl ListForm {
    /// Does every worker thread walk the children in the same, written order?
    pub fn is_ordered(self) -> bool {
        matches!(self, ListForm::List | ListForm::ArraySet)
    }

    /// Did the argument name a pool set?
    pub fn names_set(self) -> bool {
        matches!(self, ListForm::Set | ListForm::ArraySet)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SlotValue {
    Single(Target),
    Many(Vec<(Key, Target)>, ListForm),
}

/// A `child*` argument of a route handler.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    pub arg: String,
    pub value: SlotValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandlerKind {
    Builtin,
    /// Added by a library with register_route_handlers.
    Custom,
    /// Neither: the real proxy fails to load the config.
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub handler: String,
    pub kind: HandlerKind,
    pub line: Option<u32>,
    /// The handler's argument table (empty if something else was passed).
    pub args: Table,
    /// Set when the argument was not a table.
    pub args_not_table: Option<&'static str>,
    pub slots: Vec<Slot>,
}

impl Route {
    /// The required arguments `route` lacks (none for custom or unknown handlers,
    /// or when it was not given a table at all, which is reported elsewhere).
    pub fn missing_required(&self) -> Vec<MissingArg> {
        let route = self;
        if route.kind != HandlerKind::Builtin || route.args_not_table.is_some() {
            return Vec::new();
        }
        let Some(spec) = api::handler_args(&route.handler) else {
            return Vec::new();
        };
        let names: Vec<&str> = spec.iter().map(|(n, _)| *n).collect();
        let unknown: Vec<&str> = route
            .args
            .str_keys()
            .map(|(k, _)| k)
            .filter(|k| !names.contains(k))
            .collect();
        api::required_args(&route.handler)
            .iter()
            .filter(|a| route.arg(a).is_none())
            .map(|&arg| {
                // A near-miss of this argument, else (for a child slot) another
                // `child...` key: routelib resolves any such key, but this
                // handler never reads it (`child` given to route_failover).
                let near = unknown
                    .iter()
                    .find(|k| crate::suggest::nearest(k, [arg]).is_some())
                    .or_else(|| unknown.iter().find(|k| k.starts_with("child")))
                    .map(|k| k.to_string());
                MissingArg { arg, near }
            })
            .collect()
    }

    pub fn arg(&self, name: &str) -> Option<&Lv> {
        self.args.get(name).filter(|v| !matches!(v, Lv::Nil))
    }

    pub fn slot(&self, name: &str) -> Option<&SlotValue> {
        self.slots.iter().find(|s| s.arg == name).map(|s| &s.value)
    }

    /// This route and every route below it.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Route)) {
        f(self);
        for s in &self.slots {
            match &s.value {
                SlotValue::Single(Target::Route(r)) => r.walk(f),
                SlotValue::Many(list, _) => {
                    for (_, t) in list {
                        if let Target::Route(r) = t {
                            r.walk(f);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// How a router finds the prefix of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouterMode {
    /// Up to the first `stop` (default `/`).
    Prefix { stop: Vec<u8> },
    /// Starting with `start`, up to `stop`.
    Anchor { start: Vec<u8>, stop: Vec<u8> },
}

#[derive(Debug, Clone, PartialEq)]
pub enum MapEntry {
    Route(Route),
    /// A cmdmap: command id -> route.
    Commands(Vec<(u8, Route)>, Option<u32>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Router {
    pub tag: String,
    pub line: Option<u32>,
    /// The routes{} argument as written.
    pub raw: Table,
    pub mode: RouterMode,
    pub map: Vec<(String, MapEntry)>,
    pub cmap: Vec<(u8, Route)>,
    pub default: Option<Route>,
}

impl Router {
    pub fn routes<'a>(&'a self, f: &mut dyn FnMut(&'a Route)) {
        for (_, e) in &self.map {
            match e {
                MapEntry::Route(r) => r.walk(f),
                MapEntry::Commands(c, _) => c.iter().for_each(|(_, r)| r.walk(f)),
            }
        }
        self.cmap.iter().for_each(|(_, r)| r.walk(f));
        if let Some(d) = &self.default {
            d.walk(f);
        }
    }
}

/// A loaded routelib config.
#[derive(Debug, Clone, Default)]
pub struct ProxyConfig {
    /// The config's name (file, or `ConfigMap ns/name key`).
    pub name: String,
    pub text: String,
    pub pools: Vec<Pool>,
    pub sets: Vec<PoolSet>,
    /// Names given to pools{} that are not tables at all: (name, line).
    pub bad_pools: Vec<(String, Option<u32>, String)>,
    pub routers: Vec<Router>,
    /// settings{} as written.
    pub settings: Option<(Lv, Option<u32>)>,
    pub local_zone: Option<ZoneDecl>,
    pub custom_handlers: Vec<String>,
    /// The libraries loaded before the config (name, text): what a worker
    /// thread of the proxy loads, where custom handlers' start functions live.
    pub libs: Vec<(String, String)>,
    /// What the config's (and its libraries') `dofile`/`loadfile` opened:
    /// (path asked for, name, text). A worker thread's libraries reopen them.
    pub opened: Vec<(String, String, String)>,
    pub problems: Vec<Problem>,
    /// The Lua error that stopped the config, if any.
    pub failure: Option<LuaFailure>,
    /// Where tokens are written in `text`, built on first use.
    pub(super) lines: std::sync::OnceLock<LineIndex>,
    /// Pools outside sets by name (the first of a name), built on first use
    /// once every pool is in: a route names its children by name, and a
    /// config of thousands of pools must not scan them all per child.
    pub(super) pool_names: std::sync::OnceLock<(usize, std::collections::HashMap<String, usize>)>,
}

impl ProxyConfig {
    pub fn pool_by_ref(&self, reference: &str) -> Option<usize> {
        self.pools.iter().position(|p| p.reference() == reference)
    }

    /// Every route of every router.
    pub fn routes<'a>(&'a self, f: &mut dyn FnMut(&'a Route)) {
        for r in &self.routers {
            r.routes(f);
        }
    }

    /// The line of the first occurrence of `needle` at or after `from`.
    pub fn find_line(&self, from: Option<u32>, needle: &str) -> Option<u32> {
        self.line_index().find(&self.text, from, needle)
    }

    fn line_index(&self) -> &LineIndex {
        self.lines.get_or_init(|| LineIndex::new(&self.text))
    }

    /// Would the real proxy load it? (Only the problems mclint models.)
    pub fn refused(&self) -> bool {
        self.failure.is_some() || !self.problems.is_empty()
    }
}

/// Lua's `^(set_%w+)_(.+)`: `set_` and letters/digits, then `_` and the rest.
pub fn split_set_zone(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix("set_")?;
    let alnum = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    if alnum == 0 {
        return None;
    }
    let after = &rest[alnum..];
    let zone = after.strip_prefix('_')?;
    if zone.is_empty() {
        return None;
    }
    Some((&name[..4 + alnum], zone))
}
