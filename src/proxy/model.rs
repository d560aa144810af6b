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
use super::vm::{Declared, Key, LuaFailure, Lv, RouteCall, Table, ZoneDecl};

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
    pub problems: Vec<Problem>,
    /// The Lua error that stopped the config, if any.
    pub failure: Option<LuaFailure>,
    /// Where tokens are written in `text`, built on first use.
    lines: std::sync::OnceLock<LineIndex>,
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

/// Builds the model from what the VM recorded.
pub fn build(
    name: &str,
    text: &str,
    declared: Declared,
    failure: Option<LuaFailure>,
) -> ProxyConfig {
    let mut cfg = ProxyConfig {
        name: name.to_string(),
        text: text.to_string(),
        settings: declared.settings.clone(),
        local_zone: declared.zone.clone(),
        custom_handlers: declared.custom_handlers.clone(),
        failure,
        ..ProxyConfig::default()
    };
    for n in &declared.notes {
        let kind = match n.kind.as_str() {
            "unknown-command" => ProblemKind::UnknownCommand,
            "custom-conf" => ProblemKind::CustomConf,
            _ => ProblemKind::Refused,
        };
        let message = match kind {
            ProblemKind::UnknownCommand => format!("unknown command in cmdmap: {}", n.message),
            _ => n.message.clone(),
        };
        cfg.problems.push(Problem {
            kind,
            line: n.line,
            message,
        });
    }
    let (global_pool_options, global_backend_options) = global_options(&declared);
    build_pools(
        &mut cfg,
        &declared,
        &global_pool_options,
        &global_backend_options,
    );
    if cfg.failure.is_none() {
        build_routers(&mut cfg, &declared);
    }
    cfg
}

fn global_options(d: &Declared) -> (Table, Table) {
    let Some((Lv::Table(s), _)) = &d.settings else {
        return (Table::default(), Table::default());
    };
    let get = |k: &str| s.get(k).and_then(Lv::as_table).cloned().unwrap_or_default();
    (get("pool_options"), get("backend_options"))
}

/// `base` with `over`'s entries on top, sorted by key (linear after the sort:
/// an options table of 100,000 keys is hostile input, not a reason to wait).
fn overlay(base: &Table, over: &Table) -> Table {
    let mut slots: std::collections::HashMap<&Key, usize> = std::collections::HashMap::new();
    let mut out = Table::default();
    for (k, v) in base.entries.iter().chain(&over.entries) {
        match slots.get(k) {
            Some(&i) => out.entries[i].1 = v.clone(),
            None => {
                slots.insert(k, out.entries.len());
                out.entries.push((k.clone(), v.clone()));
            }
        }
    }
    out.entries.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn build_pools(cfg: &mut ProxyConfig, d: &Declared, gpo: &Table, gbo: &Table) {
    for (key, conf, call_line) in &d.pools {
        let name = match key {
            Key::Str(s) => s.clone(),
            other => other.to_string(),
        };
        let line = cfg.find_line(*call_line, &name).or(*call_line);
        if name.starts_with("set_") {
            let Lv::Table(zones) = conf else {
                cfg.bad_pools.push((
                    name,
                    line,
                    format!(
                        "a pool set must be a table of pools, not a {}",
                        conf.type_name()
                    ),
                ));
                continue;
            };
            let mut idx = Vec::new();
            for (zk, zconf) in &zones.entries {
                let zone = match zk {
                    Key::Str(s) => s.clone(),
                    other => other.to_string(),
                };
                let zline = cfg.find_line(line, &zone).or(line);
                let pool = make_pool(cfg, &zone, Some(&name), zline, zconf, gpo, gbo);
                cfg.pools.push(pool);
                idx.push(cfg.pools.len() - 1);
            }
            cfg.sets.push(PoolSet {
                name,
                line,
                zones: idx,
                array: !zones.entries.is_empty() && zones.is_list(),
            });
        } else {
            let pool = make_pool(cfg, &name, None, line, conf, gpo, gbo);
            cfg.pools.push(pool);
        }
    }
}

fn make_pool(
    cfg: &mut ProxyConfig,
    name: &str,
    set: Option<&str>,
    line: Option<u32>,
    conf: &Lv,
    gpo: &Table,
    gbo: &Table,
) -> Pool {
    let empty = Table::default();
    let t = conf.as_table().unwrap_or(&empty);
    let options = t
        .get("options")
        .and_then(Lv::as_table)
        .cloned()
        .unwrap_or_default();
    let backend_options = t
        .get("backend_options")
        .and_then(Lv::as_table)
        .cloned()
        .unwrap_or_default();
    let effective = overlay(gpo, &options);
    let bopts = overlay(gbo, &backend_options);
    let (form, list) = match t.get("backends") {
        None | Some(Lv::Nil) => (BackendsForm::Missing, Vec::new()),
        Some(Lv::Table(b)) => (
            if b.is_list() {
                BackendsForm::List
            } else {
                BackendsForm::Map
            },
            b.entries.iter().map(|(_, v)| v.clone()).collect(),
        ),
        Some(_) => (BackendsForm::NotTable, Vec::new()),
    };
    let backends = list
        .iter()
        .map(|b| make_backend(cfg, line, b, &bopts))
        .collect();
    let seed = effective
        .get("seed")
        .and_then(Lv::as_str)
        .map(str::to_string);
    let seed_hash = seed
        .as_deref()
        .map(|s| xxhash_rust::xxh3::xxh3_64(s.as_bytes()))
        .unwrap_or(0);
    let filter = match (effective.get("filter"), effective.get("filter_conf")) {
        (Some(Lv::Str(f)), Some(Lv::Str(c))) if f == "stop" => {
            KeyFilter::Stop(c.as_bytes().to_vec())
        }
        (Some(Lv::Str(f)), Some(Lv::Str(c))) if f == "tags" && c.len() >= 2 => {
            KeyFilter::Tags(c.as_bytes()[0], c.as_bytes()[1])
        }
        _ => KeyFilter::None,
    };
    let dist = match effective.get("dist") {
        None | Some(Lv::Nil) => Dist::Jump,
        Some(Lv::Const(c)) if c == "dist_jump_hash" => Dist::Jump,
        Some(Lv::Const(c)) if c == "dist_ring_hash" => Dist::Ring,
        Some(other) => Dist::Other(other.show()),
    };
    Pool {
        name: name.to_string(),
        set: set.map(str::to_string),
        line,
        conf: conf.clone(),
        backends,
        backends_form: form,
        options,
        effective,
        backend_options,
        seed,
        seed_hash,
        filter,
        dist,
    }
}

/// routelib's make_backend: a string `host:port`, `host:port label`, a string
/// ending in `_down_`, or a table `{ host =, port =, label = ... }`.
fn make_backend(cfg: &ProxyConfig, pool_line: Option<u32>, v: &Lv, bopts: &Table) -> Backend {
    let mut b = Backend {
        written: String::new(),
        host: String::new(),
        port: "11211".into(),
        label: String::new(),
        down: false,
        table_form: false,
        fields: bopts.clone(),
        problem: None,
        line: pool_line,
    };
    let str_of = |v: &Lv| match v {
        Lv::Str(s) => Some(s.clone()),
        Lv::Int(i) => Some(i.to_string()),
        Lv::Num(n) => Some(n.to_string()),
        _ => None,
    };
    match v {
        Lv::Table(t) => {
            b.table_form = true;
            b.fields = overlay(bopts, t);
            match b.fields.get("host").and_then(str_of) {
                Some(h) => b.host = h,
                None => b.problem = Some("host missing from backend entry".into()),
            }
            if let Some(p) = b.fields.get("port") {
                match str_of(p) {
                    Some(p) => b.port = p,
                    None => {
                        b.problem =
                            Some(format!("port is {}, not a string or number", p.type_name()))
                    }
                }
            }
            if let Some(l) = b.fields.get("label") {
                b.label = str_of(l).unwrap_or_default();
            }
            if b.fields.get("down").is_some_and(Lv::truthy) {
                b.down = true;
            }
            b.written = format!("{}:{}", b.host, b.port);
            if let Some(h) = t.get("host").and_then(Lv::as_str) {
                b.line = cfg.find_line(pool_line, h).or(pool_line);
            }
        }
        Lv::Str(s) => {
            b.written = s.clone();
            b.line = cfg.find_line(pool_line, s).or(pool_line);
            if s.ends_with("_down_") {
                b.down = true;
            }
            // The first of `^(.+):(%d+)%s+(%a+)` and `^(.+):(%d+)` that matches.
            match parse_backend_string(s) {
                Some((host, port, label)) => {
                    b.host = host;
                    b.port = port;
                    if let Some(l) = label {
                        b.label = l;
                    }
                }
                None => {
                    b.problem = Some(format!(
                        "{s} is an invalid backend string. must be at least host:port"
                    ))
                }
            }
        }
        other => {
            b.written = other.show();
            b.problem = Some(format!(
                "a backend must be a string or a table, not a {}",
                other.type_name()
            ));
        }
    }
    if b.label.is_empty() {
        b.label = format!("{}:{}", b.host, b.port);
    }
    b
}

/// Lua's `^(.+):(%d+)%s+(%a+)` then `^(.+):(%d+)` (greedy `.+`, unanchored end).
pub fn parse_backend_string(s: &str) -> Option<(String, String, Option<String>)> {
    let bytes = s.as_bytes();
    // Greedy (.+): try the last possible ':' first.
    let colons: Vec<usize> = (1..bytes.len())
        .rev()
        .filter(|&i| bytes[i] == b':')
        .collect();
    for &c in &colons {
        let digits = bytes[c + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 {
            continue;
        }
        // %d+ is greedy too, but may give back digits for %s+ to match: whitespace
        // can only follow the full run, so take it all.
        let after = c + 1 + digits;
        let ws = bytes[after..]
            .iter()
            .take_while(|b| is_lua_space(**b))
            .count();
        if ws > 0 {
            let alpha = bytes[after + ws..]
                .iter()
                .take_while(|b| b.is_ascii_alphabetic())
                .count();
            if alpha > 0 {
                return Some((
                    s[..c].to_string(),
                    s[c + 1..after].to_string(),
                    Some(s[after + ws..after + ws + alpha].to_string()),
                ));
            }
        }
    }
    for &c in &colons {
        let digits = bytes[c + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits > 0 {
            return Some((
                s[..c].to_string(),
                s[c + 1..c + 1 + digits].to_string(),
                None,
            ));
        }
    }
    None
}

fn is_lua_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn build_routers(cfg: &mut ProxyConfig, d: &Declared) {
    if d.routes.is_empty() {
        cfg.problems.push(Problem {
            kind: ProblemKind::Refused,
            line: None,
            message: "missing routes{} section".into(),
        });
        return;
    }
    for (key, v, line) in &d.routes {
        let tag = match key {
            Key::Str(s) => s.clone(),
            other => other.to_string(),
        };
        let Lv::Table(t) = v else { continue };
        let mut router = Router {
            tag,
            line: *line,
            raw: t.clone(),
            mode: RouterMode::Prefix {
                stop: b"/".to_vec(),
            },
            map: Vec::new(),
            cmap: Vec::new(),
            default: None,
        };
        let map = t.get("map").filter(|v| !matches!(v, Lv::Nil));
        let cmap = t.get("cmap").filter(|v| !matches!(v, Lv::Nil));
        let default = t.get("default").filter(|v| !matches!(v, Lv::Nil));
        if map.is_none() && cmap.is_none() && default.is_none() {
            cfg.problems.push(Problem {
                kind: ProblemKind::Refused,
                line: *line,
                message: "must pass map or cmap to a router".into(),
            });
        }
        router.mode = router_mode(cfg, t, *line, map.is_some());
        if let Some(m) = map {
            match m {
                Lv::Table(m) => {
                    for (k, e) in &m.entries {
                        let prefix = match k {
                            Key::Str(s) => s.clone(),
                            other => other.to_string(),
                        };
                        match e {
                            Lv::Route(r) => {
                                let r = make_route(cfg, r, 0);
                                router.map.push((prefix, MapEntry::Route(r)));
                            }
                            Lv::CmdMap(c, l) => {
                                let mut cmds = Vec::new();
                                for (ck, cv) in &c.entries {
                                    let Some(id) = cmd_key(ck) else { continue };
                                    match cv {
                                        Lv::Route(r) => cmds.push((id, make_route(cfg, r, 0))),
                                        _ => cfg.problems.push(Problem {
                                            kind: ProblemKind::Refused,
                                            line: *l,
                                            message: format!(
                                                "bad entry in route table map: `{prefix}` cmdmap entry {ck} is {}, not a route",
                                                cv.show()
                                            ),
                                        }),
                                    }
                                }
                                router.map.push((prefix, MapEntry::Commands(cmds, *l)));
                            }
                            other => cfg.problems.push(Problem {
                                kind: ProblemKind::Refused,
                                line: cfg.find_line(*line, &prefix).or(*line),
                                message: format!(
                                    "unknown route map type: map entry `{prefix}` is {}, not a route_*{{}} or cmdmap{{}}",
                                    other.show()
                                ),
                            }),
                        }
                    }
                }
                other => cfg.problems.push(Problem {
                    kind: ProblemKind::Refused,
                    line: *line,
                    message: format!("routes map must be a table, not {}", other.show()),
                }),
            }
        }
        if let Some(c) = cmap {
            match c {
                Lv::Table(c) => {
                    for (k, v) in &c.entries {
                        let id = match k {
                            Key::Str(s) => match command_id(s) {
                                Some(id) => id,
                                None => {
                                    cfg.problems.push(Problem {
                                        kind: ProblemKind::UnknownCommand,
                                        line: cfg.find_line(*line, s).or(*line),
                                        message: format!("unknown command in cmdmap: {s}"),
                                    });
                                    continue;
                                }
                            },
                            Key::Int(i)
                                if (1..i64::from(CMD_END_STORAGE)).contains(i)
                                    || *i == i64::from(CMD_ANY_STORAGE) =>
                            {
                                *i as u8
                            }
                            other => {
                                cfg.problems.push(Problem {
                                    kind: ProblemKind::UnknownCommand,
                                    line: *line,
                                    message: format!("unknown command in cmdmap: {other}"),
                                });
                                continue;
                            }
                        };
                        match v {
                            Lv::Route(r) => {
                                let r = make_route(cfg, r, 0);
                                router.cmap.push((id, r));
                            }
                            other => cfg.problems.push(Problem {
                                kind: ProblemKind::Refused,
                                line: cfg.find_line(*line, &k.to_string()).or(*line),
                                message: format!(
                                    "cmap entry {k} is {}, not a route_*{{}}",
                                    other.show()
                                ),
                            }),
                        }
                    }
                }
                other => cfg.problems.push(Problem {
                    kind: ProblemKind::Refused,
                    line: *line,
                    message: format!("routes cmap must be a table, not {}", other.show()),
                }),
            }
        }
        if let Some(dv) = default {
            match dv {
                Lv::Route(r) => router.default = Some(make_route(cfg, r, 0)),
                other => cfg.problems.push(Problem {
                    kind: ProblemKind::Refused,
                    line: cfg.find_line(*line, "default").or(*line),
                    message: format!("routes default is {}, not a route_*{{}}", other.show()),
                }),
            }
        }
        cfg.routers.push(router);
    }
}

fn cmd_key(k: &Key) -> Option<u8> {
    match k {
        Key::Str(s) => command_id(s),
        Key::Int(i)
            if (1..i64::from(CMD_END_STORAGE)).contains(i) || *i == i64::from(CMD_ANY_STORAGE) =>
        {
            Some(*i as u8)
        }
        _ => None,
    }
}

fn router_mode(cfg: &mut ProxyConfig, t: &Table, line: Option<u32>, has_map: bool) -> RouterMode {
    let default = RouterMode::Prefix {
        stop: b"/".to_vec(),
    };
    let Some(Lv::Table(conf)) = t.get("conf") else {
        return default;
    };
    let refuse = |cfg: &mut ProxyConfig, m: String| {
        cfg.problems.push(Problem {
            kind: ProblemKind::Refused,
            line,
            message: m,
        })
    };
    if !has_map {
        return default;
    }
    let Some(Lv::Str(mode)) = conf.get("mode") else {
        return default;
    };
    let get = |cfg: &mut ProxyConfig, k: &str| -> Option<Vec<u8>> {
        match conf.get(k) {
            None | Some(Lv::Nil) => None,
            Some(Lv::Str(s)) if s.is_empty() => {
                refuse(
                    cfg,
                    format!("must pass a non-zero length string to {k} in mcp.router_new"),
                );
                None
            }
            Some(Lv::Str(s)) if s.len() > 5 => {
                refuse(
                    cfg,
                    format!("{k} is too long in mcp.router_new (at most 5 bytes)"),
                );
                None
            }
            Some(Lv::Str(s)) => Some(s.as_bytes().to_vec()),
            Some(_) => {
                refuse(cfg, format!("must pass a string to {k} in mcp.router_new"));
                None
            }
        }
    };
    match mode.as_str() {
        "prefix" => RouterMode::Prefix {
            stop: get(cfg, "stop").unwrap_or_else(|| b"/".to_vec()),
        },
        "anchor" => {
            let stop = get(cfg, "stop");
            let start = get(cfg, "start");
            match (start, stop) {
                (None, None) => RouterMode::Anchor {
                    start: b"/".to_vec(),
                    stop: b"/".to_vec(),
                },
                (Some(start), Some(stop)) => RouterMode::Anchor { start, stop },
                _ => {
                    refuse(
                        cfg,
                        "must specify start and stop if mode is anchor in mcp.router_new".into(),
                    );
                    default
                }
            }
        }
        other => {
            refuse(
                cfg,
                format!("unknown type passed to mcp.router_new: mode \"{other}\""),
            );
            default
        }
    }
}

/// Resolves a route call and its children the way routelib's get_child does.
fn make_route(cfg: &mut ProxyConfig, call: &RouteCall, depth: usize) -> Route {
    let kind = if call.unknown {
        HandlerKind::Unknown
    } else if api::handler_args(&call.handler).is_none() {
        HandlerKind::Custom
    } else {
        HandlerKind::Builtin
    };
    let (args, args_not_table) = match &call.args {
        Lv::Table(t) => (t.clone(), None),
        Lv::Nil => (Table::default(), Some("nil")),
        other => (Table::default(), Some(other.type_name())),
    };
    let mut route = Route {
        handler: call.handler.clone(),
        kind,
        line: call.line,
        args,
        args_not_table,
        slots: Vec::new(),
    };
    if depth > 32 {
        return route;
    }
    let child_args: Vec<(String, Lv)> = route
        .args
        .str_keys()
        .filter(|(k, _)| k.starts_with("child"))
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    for (arg, v) in child_args {
        let value = match &v {
            Lv::Str(name) => match resolve(cfg, name) {
                Target::Set(set) => {
                    let (zones, array) = cfg
                        .sets
                        .iter()
                        .find(|s| s.name == set)
                        .map(|s| (s.zones.clone(), s.array))
                        .unwrap_or_default();
                    let key = |name: &str| match name.parse::<i64>() {
                        Ok(n) if array => Key::Int(n),
                        _ => Key::Str(name.to_string()),
                    };
                    SlotValue::Many(
                        zones
                            .into_iter()
                            .map(|i| (key(&cfg.pools[i].name), Target::Pool(i)))
                            .collect(),
                        if array {
                            ListForm::ArraySet
                        } else {
                            ListForm::Set
                        },
                    )
                }
                t => SlotValue::Single(t),
            },
            Lv::Route(r) => {
                SlotValue::Single(Target::Route(Box::new(make_route(cfg, r, depth + 1))))
            }
            Lv::Table(t) => {
                let form = if t.is_list() {
                    ListForm::List
                } else {
                    ListForm::Map
                };
                let mut list = Vec::new();
                for (k, c) in &t.entries {
                    let target = match c {
                        Lv::Str(name) => resolve(cfg, name),
                        Lv::Route(r) => Target::Route(Box::new(make_route(cfg, r, depth + 1))),
                        other => Target::Invalid(other.show()),
                    };
                    list.push((k.clone(), target));
                }
                SlotValue::Many(list, form)
            }
            Lv::Nil => continue,
            other => SlotValue::Single(Target::Invalid(other.show())),
        };
        route.slots.push(Slot { arg, value });
    }
    route
}

/// routelib's get_child: `internal`, `set_<alnum>_<zone>`, `set_...`, or a pool.
pub fn resolve(cfg: &ProxyConfig, name: &str) -> Target {
    if name == "internal" {
        return Target::Internal;
    }
    if let Some((set, zone)) = split_set_zone(name) {
        let Some(s) = cfg.sets.iter().find(|s| s.name == set) else {
            return Target::Missing(name.to_string(), format!("no pool set matching: {set}"));
        };
        return match s.zones.iter().find(|&&i| cfg.pools[i].name == zone) {
            Some(&i) => Target::Pool(i),
            None => Target::Missing(
                name.to_string(),
                format!("no pool set zone matching: {name}"),
            ),
        };
    }
    if name.starts_with("set_") {
        return if cfg.sets.iter().any(|s| s.name == name) {
            Target::Set(name.to_string())
        } else {
            Target::Missing(name.to_string(), format!("no pool set matching: {name}"))
        };
    }
    match cfg
        .pools
        .iter()
        .position(|p| p.set.is_none() && p.name == name)
    {
        Some(i) => Target::Pool(i),
        None => Target::Missing(name.to_string(), format!("no pool matching: {name}")),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_strings_parse_like_lua_patterns() {
        assert_eq!(
            parse_backend_string("10.0.0.1:11211"),
            Some(("10.0.0.1".into(), "11211".into(), None))
        );
        assert_eq!(
            parse_backend_string("a.b:11211 east"),
            Some(("a.b".into(), "11211".into(), Some("east".into())))
        );
        // %a+ stops at the first non-letter.
        assert_eq!(
            parse_backend_string("a.b:11211 web1"),
            Some(("a.b".into(), "11211".into(), Some("web".into())))
        );
        // Greedy host, unanchored end.
        assert_eq!(
            parse_backend_string("a:1:2x"),
            Some(("a:1".into(), "2".into(), None))
        );
        assert_eq!(parse_backend_string("host"), None);
        assert_eq!(parse_backend_string(":11211"), None);
        assert_eq!(parse_backend_string("_down_"), None);
    }

    #[test]
    fn set_names_split_like_routelib() {
        assert_eq!(
            split_set_zone("set_main_pools"),
            Some(("set_main", "pools"))
        );
        assert_eq!(split_set_zone("set_a_b_c"), Some(("set_a", "b_c")));
        assert_eq!(split_set_zone("set_main"), None);
        assert_eq!(split_set_zone("set_my-set"), None);
    }
}
