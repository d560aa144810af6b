//! Where a request goes: the router's prefix/command lookup, then the route
//! tree down to pools, then the backend each pool picks for the key.
//!
//! Everything here is plain Rust over the model; nothing runs Lua per key.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use super::hash::FilterCrash;
use super::model::{
    CMD_ANY_STORAGE, CMD_END_STORAGE, HandlerKind, ListForm, MapEntry, ProxyConfig, Route, Router,
    RouterMode, SlotValue, Target, command_name, is_read, is_ttl_command,
};
use super::placement::{PlacementError, Placer};
use super::value::{Key, Lv};
use super::vm::{
    ChildArg, Chunk, HANDLER_LIMITS, HandlerCall, HandlerOutcome, HandlerRun, Status, run_handler,
};

/// A route_ttl child.
pub fn is_ttl_route(t: &Target) -> bool {
    matches!(t, Target::Route(r) if r.kind == HandlerKind::Builtin && r.handler == "ttl")
}

/// Why a backend is contacted. Nested handlers compose by taking the later
/// variant: the more conditional reason wins, so a copy that a failover child
/// sends without waiting is `Failover` (contacted only when failing over).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// The first (or only) one asked.
    Primary,
    /// Asked together with others (allsync, allfastest).
    All,
    /// One of these is picked at random per request.
    Random,
    /// Sent a copy without waiting (split's child_b, allasync).
    Async,
    /// Asked only when an earlier one failed or missed.
    Failover,
    /// Sent another command for the key (a custom handler's `delete` after a
    /// write): the key is not stored there.
    Other,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::All => "all",
            Role::Random => "random",
            Role::Failover => "failover",
            Role::Async => "async",
            Role::Other => "other-command",
        }
    }
}

/// A backend a request reaches. `pool == None` is the proxy's internal cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hop {
    pub pool: Option<usize>,
    pub backend: usize,
    pub role: Role,
}

/// Why following a route stopped.
#[derive(Debug)]
enum Halt {
    /// The key reached a backend marked down (`_down_`, `down = true`): the
    /// proxy answers SERVER_ERROR without contacting anything, and a route
    /// that fails over (or fans out) goes on with its other children.
    Down(String),
    /// The request fails, or mclint cannot follow it.
    Fail(String),
}

/// Why the engine cannot route with a config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("{config}: the config defines no routes")]
    NoRoutes { config: String },
    #[error("{config}: no routes{{}} with tag `{tag}` (tags: {})", tags.join(", "))]
    NoTag {
        config: String,
        tag: String,
        tags: Vec<String>,
    },
}

/// Why a key has no backend in a pool.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceError {
    #[error("pool {pool}: {why}")]
    Unplaceable { pool: String, why: PlacementError },
    #[error("pool {pool}: its ring has no backend for this key (the proxy answers with an error)")]
    RingGap { pool: String },
    #[error("pool {pool} has no backends: the proxy crashes on this request")]
    NoBackends { pool: String },
    #[error(
        "pool {pool}: its tags filter uses the same delimiter twice and the proxy crashes on this key"
    )]
    FilterCrash { pool: String },
}

/// Why a request stops: it fails at the proxy (SERVER_ERROR, a crash), or
/// mclint cannot follow it; the message says which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RouteHalt(pub String);

impl From<PlaceError> for Halt {
    fn from(e: PlaceError) -> Halt {
        Halt::Fail(e.to_string())
    }
}

impl From<String> for Halt {
    fn from(s: String) -> Halt {
        Halt::Fail(s)
    }
}

impl Halt {
    fn message(self) -> String {
        match self {
            Halt::Down(m) | Halt::Fail(m) => m,
        }
    }
}

/// The proxy's index for `CMD_ANY_STORAGE` in a cmdmap.
const ANY: u8 = CMD_ANY_STORAGE;

/// A router ready to answer many lookups.
pub struct Engine<'a> {
    pub cfg: &'a ProxyConfig,
    pub router: &'a Router,
    /// The global local_zone (for route_zfailover).
    zone: Option<&'a str>,
    /// Map prefix (as bytes, for the lookup) -> the prefix as written and its entry.
    map: HashMap<&'a [u8], (&'a str, &'a MapEntry)>,
    cmap: [Option<&'a Route>; CMD_END_STORAGE as usize],
    /// How far unordered child lists (a set name, a map, `shuffle = true`) are
    /// rotated: each worker thread of the real proxy walks them in its own
    /// order; 0 is the model's (sorted) order.
    rotation: usize,
    /// How keys reach each pool's backends, built once per engine (a ring is
    /// hundreds of MD5 digests); `Err` says why mclint cannot place its keys.
    placers: Arc<Vec<Result<Placer, PlacementError>>>,
}

/// What the router picked for a key.
pub struct Selected<'a> {
    /// `default`, `cmap get`, a map prefix, or `prefix cmd` for a cmdmap entry.
    /// Borrowed from the config where it can be (a map prefix, `default`), so
    /// routing a key through a prefix map allocates nothing.
    pub label: Cow<'a, str>,
    pub route: Option<&'a Route>,
}

impl<'a> Engine<'a> {
    pub fn new(cfg: &'a ProxyConfig, tag: &str) -> Result<Engine<'a>, EngineError> {
        let router = cfg.routers.iter().find(|r| r.tag == tag).ok_or_else(|| {
            let tags: Vec<String> = cfg.routers.iter().map(|r| r.tag.clone()).collect();
            if tags.is_empty() {
                EngineError::NoRoutes {
                    config: cfg.name.clone(),
                }
            } else {
                EngineError::NoTag {
                    config: cfg.name.clone(),
                    tag: tag.to_string(),
                    tags,
                }
            }
        })?;
        let mut map = HashMap::new();
        for (k, e) in &router.map {
            map.insert(k.as_bytes(), (k.as_str(), e));
        }
        let mut cmap = [None; CMD_END_STORAGE as usize];
        for (id, r) in &router.cmap {
            if let Some(slot) = cmap.get_mut(*id as usize) {
                *slot = Some(r);
            }
        }
        Ok(Engine {
            cfg,
            router,
            zone: cfg.local_zone.as_ref().and_then(|z| z.value.as_deref()),
            map,
            cmap,
            rotation: 0,
            placers: Arc::new(cfg.pools.iter().map(Placer::for_pool).collect()),
        })
    }

    /// The same router with unordered child lists rotated by `k`: one of the
    /// orders a worker thread of the real proxy may use.
    pub fn rotated(&self, k: usize) -> Engine<'a> {
        Engine {
            cfg: self.cfg,
            router: self.router,
            zone: self.zone,
            map: self.map.clone(),
            cmap: self.cmap,
            rotation: k,
            placers: self.placers.clone(),
        }
    }

    /// `list` in the order this engine's worker thread walks it.
    fn arrange<'r, T>(&self, list: Vec<&'r T>, unordered: bool) -> Vec<&'r T> {
        let mut list = list;
        if unordered && !list.is_empty() {
            let n = list.len();
            list.rotate_left(self.rotation % n);
        }
        list
    }

    /// The local zone a zfailover/failover route puts first, if any.
    fn route_zone<'r>(&'r self, r: &'r Route) -> Option<&'r str> {
        match r.handler.as_str() {
            "failover" => r.arg("local_zone").and_then(Lv::as_str),
            "zfailover" => r.arg("local_zone").and_then(Lv::as_str).or(self.zone),
            _ => None,
        }
    }

    /// Where the order of a route's children, and so what it answers or which
    /// backend it tries first, is not fixed: one note per such route reachable
    /// from `r`, with the number of orders worth evaluating.
    pub fn order_notes(&self, r: &Route, out: &mut Vec<(String, usize)>) {
        r.walk(&mut |r| {
            if r.kind != HandlerKind::Builtin {
                return;
            }
            let Some(SlotValue::Many(list, form)) = r.slot("children") else {
                return;
            };
            let how = match form {
                ListForm::Set => "walks the pool set with pairs()",
                ListForm::Map => "walks its children map with pairs()",
                ListForm::List | ListForm::ArraySet => "",
            };
            let shuffle = shuffles(r);
            let n = list.len();
            let zoned = self.route_zone(r).is_some_and(|z| {
                list.iter().any(|(k, _)| is_zone(k, z))
            });
            let line = r.line.map(|l| format!(" (line {l})")).unwrap_or_default();
            let note = match r.handler.as_str() {
                "allsync" if !form.is_ordered() && n > 1 => format!(
                    "route_allsync{line} {how}: each worker thread orders the children its own way, and allsync answers with its last child, so whether a failed write is reported differs between connections (shown in name order)"
                ),
                "failover" if shuffle && n > 1 => format!(
                    "route_failover{line} has shuffle = true: each worker thread tries the children in its own random order (shown unshuffled)"
                ),
                "failover" if !form.is_ordered() && (if zoned { n > 2 } else { n > 1 }) => format!(
                    "route_failover{line} {how}: each worker thread tries {} in its own order (shown in name order)",
                    if zoned { "the zones after its local zone" } else { "the children" }
                ),
                "zfailover" if !form.is_ordered() && n > 2 => format!(
                    "route_zfailover{line} {how}: when no zone has the key, the answer is that of the far zone each worker thread walks last (miss or error; shown in name order)"
                ),
                _ => return,
            };
            out.push((note, n));
        });
    }

    /// Does [`Self::select`] look at the key? Only through a prefix map:
    /// without one, every key of a command takes the same route.
    pub fn selects_by_key(&self) -> bool {
        !self.router.map.is_empty()
    }

    /// The prefix the router looks up, if any (`mcp_funcgen_route`).
    pub fn prefix<'k>(&self, key: &'k [u8]) -> Option<&'k [u8]> {
        if !self.selects_by_key() {
            return None;
        }
        let p = match &self.router.mode {
            RouterMode::Prefix { stop } if stop.len() == 1 => {
                let i = key.iter().position(|&b| b == stop[0])?;
                &key[..i]
            }
            RouterMode::Prefix { stop } => {
                let i = find(key, stop)?;
                &key[..i]
            }
            RouterMode::Anchor { start, stop } if start.len() == 1 && stop.len() == 1 => {
                if key.first() != Some(&start[0]) {
                    return None;
                }
                let rest = &key[1..];
                let i = rest.iter().position(|&b| b == stop[0])?;
                &rest[..i]
            }
            RouterMode::Anchor { start, stop } => {
                if start.len() + 2 > key.len() || !key.starts_with(start) {
                    return None;
                }
                let rest = &key[start.len()..];
                let i = find(rest, stop)?;
                &rest[..i]
            }
        };
        (!p.is_empty()).then_some(p)
    }

    /// The route a command on `key` takes.
    pub fn select(&self, key: &[u8], cmd: u8) -> Selected<'a> {
        if let Some(p) = self.prefix(key)
            && let Some(&(name, entry)) = self.map.get(p)
        {
            match entry {
                MapEntry::Route(r) => {
                    return Selected {
                        label: Cow::Borrowed(name),
                        route: Some(r),
                    };
                }
                MapEntry::Commands(c, _) => {
                    if let Some((_, r)) = c.iter().find(|(id, _)| *id == cmd) {
                        return Selected {
                            label: format!("{name} {}", command_name(cmd)).into(),
                            route: Some(r),
                        };
                    }
                    if let Some((_, r)) = c.iter().find(|(id, _)| *id == ANY) {
                        return Selected {
                            label: format!("{name} all").into(),
                            route: Some(r),
                        };
                    }
                }
            }
        }
        if let Some(Some(r)) = self.cmap.get(cmd as usize) {
            return Selected {
                label: format!("cmap {}", command_name(cmd)).into(),
                route: Some(r),
            };
        }
        match &self.router.default {
            Some(r) => Selected {
                label: "default".into(),
                route: Some(r),
            },
            None => Selected {
                label: "none".into(),
                route: None,
            },
        }
    }

    /// The backends `route` contacts for `key`, in order, appended to `out`.
    pub fn hops(
        &self,
        route: &Route,
        key: &[u8],
        cmd: u8,
        out: &mut Vec<Hop>,
    ) -> Result<(), RouteHalt> {
        self.route_hops(route, key, cmd, Role::Primary, out, 0)
            .map_err(|h| RouteHalt(h.message()))
    }

    fn target_hops(
        &self,
        t: &Target,
        key: &[u8],
        cmd: u8,
        role: Role,
        out: &mut Vec<Hop>,
        depth: usize,
    ) -> Result<(), Halt> {
        match t {
            Target::Pool(i) => {
                let b = self.place(*i, key)?;
                if let Some(why) = self.down(*i, b) {
                    return Err(Halt::Down(why));
                }
                out.push(Hop {
                    pool: Some(*i),
                    backend: b,
                    role,
                });
                Ok(())
            }
            Target::Internal => {
                out.push(Hop {
                    pool: None,
                    backend: 0,
                    role,
                });
                Ok(())
            }
            Target::Route(r) => self.route_hops(r, key, cmd, role, out, depth + 1),
            Target::Set(s) => Err(format!("a single child names the pool set {s}").into()),
            Target::Missing(_, why) => Err(why.clone().into()),
            Target::Invalid(what) => Err(format!("invalid child {what}").into()),
        }
    }

    /// Why backend `b` of pool `i` answers without being contacted: routelib
    /// marks a backend written `host:port_down_` (or a table with
    /// `down = true`) down, and the proxy answers `SERVER_ERROR backend
    /// failure` for every key placed on it (measured with the real 1.6.38 proxy).
    pub fn down(&self, i: usize, b: usize) -> Option<String> {
        let p = &self.cfg.pools[i];
        let be = p.backends.get(b)?;
        be.down.then(|| {
            format!(
                "the key's backend {} in pool {} is marked down: the proxy answers SERVER_ERROR and contacts nothing",
                be.address(),
                p.reference()
            )
        })
    }

    /// The backend index in pool `i` for `key`.
    pub fn place(&self, i: usize, key: &[u8]) -> Result<usize, PlaceError> {
        let p = &self.cfg.pools[i];
        let placer = match &self.placers[i] {
            Ok(placer) => placer,
            Err(why) => {
                return Err(PlaceError::Unplaceable {
                    pool: p.reference(),
                    why: why.clone(),
                });
            }
        };
        match placer.place(key) {
            Ok(Some(b)) => Ok(b as usize),
            Ok(None) if !p.backends.is_empty() => Err(PlaceError::RingGap {
                pool: p.reference(),
            }),
            Ok(None) => Err(PlaceError::NoBackends {
                pool: p.reference(),
            }),
            Err(FilterCrash) => Err(PlaceError::FilterCrash {
                pool: p.reference(),
            }),
        }
    }

    /// The pool `r` sends every command to as its only hop, a primary one,
    /// when that is all `r` does (`route_direct` or `route_ratelim` over a
    /// pool, as [`Self::hops`] follows them): a key's backend is then the
    /// pool's placement alone (and an error when that backend is down).
    pub fn direct_pool(&self, r: &Route) -> Option<usize> {
        match (r.kind, r.handler.as_str()) {
            (HandlerKind::Builtin, "direct" | "ratelim") => match r.slot("child") {
                Some(SlotValue::Single(Target::Pool(i))) => Some(*i),
                _ => None,
            },
            _ => None,
        }
    }

    /// Children of a handler in the order the proxy (as modelled) tries them,
    /// limited to those it may contact.
    pub fn ordered<'r>(&self, r: &'r Route) -> Vec<&'r Target> {
        let Some(SlotValue::Many(list, form)) = r.slot("children") else {
            return r
                .slot("children")
                .map(|s| single(s).into_iter().collect())
                .unwrap_or_default();
        };
        let zone = self.route_zone(r);
        let unordered = !form.is_ordered();
        let mut v: Vec<&Target> = Vec::with_capacity(list.len());
        if let Some(z) = zone
            && let Some((_, t)) = list.iter().find(|(k, _)| is_zone(k, z))
        {
            v.push(t);
            v.extend(
                self.arrange(
                    list.iter()
                        .filter(|(k, _)| !is_zone(k, z))
                        .map(|(_, t)| t)
                        .collect(),
                    unordered,
                ),
            );
        } else {
            v.extend(self.arrange(list.iter().map(|(_, t)| t).collect(), unordered));
        }
        // shuffle reorders the whole list, the local zone included.
        if shuffles(r) {
            v = self.arrange(v, true);
        }
        if r.handler == "failover"
            && let Some(n) = r.arg("failover_count").and_then(Lv::as_f64)
        {
            let n = if n < 0.0 { 0 } else { n as usize };
            v.truncate(n);
        }
        v
    }

    fn route_hops(
        &self,
        r: &Route,
        key: &[u8],
        cmd: u8,
        role: Role,
        out: &mut Vec<Hop>,
        depth: usize,
    ) -> Result<(), Halt> {
        if depth > 32 {
            return Err(Halt::Fail("routes nested too deep".into()));
        }
        let sub = |inner: Role| role.max(inner);
        match (r.kind, r.handler.as_str()) {
            // Kept in step with `direct_pool`.
            (HandlerKind::Builtin, "direct" | "ratelim") => {
                self.slot_hops(r, "child", key, cmd, role, out, depth)
            }
            (HandlerKind::Builtin, "ttl") => {
                if !is_ttl_command(cmd) && cmd != ANY {
                    return Err(Halt::Fail(format!(
                        "route_ttl answers SERVER_ERROR to {} (it handles ms, set, add and cas only)",
                        command_name(cmd)
                    )));
                }
                if r.arg("ttl").is_none() {
                    return Err(Halt::Fail(
                        "route_ttl has no ttl: the proxy answers SERVER_ERROR lua failure".into(),
                    ));
                }
                self.slot_hops(r, "child", key, cmd, role, out, depth)
            }
            (HandlerKind::Builtin, "split") => {
                // A route_ttl as child_b rewrites the shared request before
                // child_a's copy is sent: child_a gets a malformed command.
                let b_is_ttl =
                    matches!(r.slot("child_b"), Some(SlotValue::Single(t)) if is_ttl_route(t));
                let a = if !(b_is_ttl && is_ttl_command(cmd)) {
                    self.slot_hops(r, "child_a", key, cmd, role, out, depth)
                } else {
                    match r.slot("child_a") {
                        Some(SlotValue::Single(t)) => self
                            .malformed_hops(t, key, cmd, role, out, depth)
                            .map(|_| ()),
                        _ => Ok(()),
                    }
                };
                // A copy sent to a down backend is simply not sent; the
                // answer is child_a's.
                match self.slot_hops(r, "child_b", key, cmd, sub(Role::Async), out, depth) {
                    Ok(()) | Err(Halt::Down(_)) => a,
                    Err(e) => Err(e),
                }
            }
            (HandlerKind::Builtin, "null") => Ok(()),
            (HandlerKind::Builtin, "failover" | "zfailover") => {
                let children = self.ordered(r);
                if r.handler == "zfailover" && children.is_empty() {
                    return Err(Halt::Fail("route_zfailover has no children".into()));
                }
                if r.handler == "zfailover" {
                    self.zfailover_near(r)?;
                }
                // A child whose key is on a down backend fails at once, so the
                // next one is asked for every such key and takes its role.
                if r.handler == "zfailover" {
                    let Some((near, far)) = children.split_first() else {
                        return Ok(());
                    };
                    let near_down = match self.target_hops(near, key, cmd, role, out, depth) {
                        Ok(()) => None,
                        Err(Halt::Down(m)) => Some(m),
                        Err(e) => return Err(e),
                    };
                    // With the near zone down, every far zone is asked at once.
                    let far_role = match (&near_down, far.len()) {
                        (None, _) => sub(Role::Failover),
                        (Some(_), 1) => role,
                        (Some(_), _) => sub(Role::All),
                    };
                    let mut reached = false;
                    for t in far {
                        match self.target_hops(t, key, cmd, far_role, out, depth) {
                            Ok(()) => reached = true,
                            Err(Halt::Down(_)) => {}
                            Err(e) => return Err(e),
                        }
                    }
                    return match near_down {
                        Some(m) if !reached => Err(Halt::Down(m)),
                        _ => Ok(()),
                    };
                }
                let mut first_down = None;
                let mut reached = false;
                for t in children {
                    let rl = if reached { sub(Role::Failover) } else { role };
                    match self.target_hops(t, key, cmd, rl, out, depth) {
                        Ok(()) => reached = true,
                        Err(Halt::Down(m)) => {
                            first_down.get_or_insert(m);
                        }
                        Err(e) => return Err(e),
                    }
                }
                match first_down {
                    Some(m) if !reached => Err(Halt::Down(m)),
                    _ => Ok(()),
                }
            }
            (HandlerKind::Builtin, "allsync" | "allfastest" | "allasync" | "random") => {
                let each = match r.handler.as_str() {
                    "allasync" => Role::Async,
                    "random" => Role::Random,
                    _ => Role::All,
                };
                let children = self.many(r, "children")?;
                // routelib hands every child the same request object and
                // route_ttl rewrites it in place: the children enqueued before
                // a route_ttl send a malformed command and store nothing
                // (measured with the real 1.6.38 proxy).
                let first_ttl = if is_ttl_command(cmd) {
                    children.iter().position(|t| is_ttl_route(t)).unwrap_or(0)
                } else {
                    0
                };
                // Children whose backend is down are not contacted; the
                // request fails only when no child is.
                // A route_failover among those earlier children takes the
                // malformed send as a failure and retries with the request
                // the route_ttl rewrote, which is stored.
                for t in &children[..first_ttl] {
                    self.malformed_hops(t, key, cmd, sub(each), out, depth)?;
                }
                let mut first_down = None;
                let mut reached = false;
                for t in &children[first_ttl..] {
                    match self.target_hops(t, key, cmd, sub(each), out, depth) {
                        Ok(()) => reached = true,
                        Err(Halt::Down(m)) => {
                            first_down.get_or_insert(m);
                        }
                        Err(e) => return Err(e),
                    }
                }
                match first_down {
                    Some(m) if !reached => Err(Halt::Down(m)),
                    _ => Ok(()),
                }
            }
            (HandlerKind::Custom, _) => self.custom_hops(r, key, cmd, role, out, depth),
            _ => {
                // A handler mclint does not model: every child, in order.
                for s in &r.slots {
                    match &s.value {
                        SlotValue::Single(t) => self.target_hops(t, key, cmd, role, out, depth)?,
                        SlotValue::Many(list, _) => {
                            for (_, t) in list {
                                self.target_hops(t, key, cmd, role, out, depth)?;
                            }
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// The hops of `t` when the request reaches it already rewritten in
    /// place by a route_ttl sharing it (a child of a parallel route before
    /// the route_ttl): its first send is malformed and stores nothing, and a
    /// route_failover takes that error as a failure and sends the rewritten
    /// (now well-formed) request to its next children, one of which stores
    /// it with the route_ttl's TTL (measured with the real 1.6.38 proxy).
    /// Returns whether a retry reached a backend. Other handlers store
    /// nothing here.
    fn malformed_hops(
        &self,
        t: &Target,
        key: &[u8],
        cmd: u8,
        role: Role,
        out: &mut Vec<Hop>,
        depth: usize,
    ) -> Result<bool, Halt> {
        if depth > 32 {
            return Err(Halt::Fail("routes nested too deep".into()));
        }
        let Target::Route(r) = t else {
            return Ok(false);
        };
        if r.kind != HandlerKind::Builtin {
            return Ok(false);
        }
        match r.handler.as_str() {
            "direct" => match r.slot("child") {
                Some(SlotValue::Single(c)) => {
                    self.malformed_hops(c, key, cmd, role, out, depth + 1)
                }
                _ => Ok(false),
            },
            "failover" => {
                let children = self.ordered(r);
                let Some((first, rest)) = children.split_first() else {
                    return Ok(false);
                };
                if self.malformed_hops(first, key, cmd, role, out, depth + 1)? {
                    return Ok(true);
                }
                let mut reached = false;
                for t in rest {
                    let rl = if reached {
                        role.max(Role::Failover)
                    } else {
                        role
                    };
                    match self.target_hops(t, key, cmd, rl, out, depth + 1) {
                        Ok(()) => reached = true,
                        Err(Halt::Down(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(reached)
            }
            _ => Ok(false),
        }
    }

    /// routelib's route_zfailover picks its near child as `children[zone]`:
    /// with no such key (a list of children, or a zone the set lacks) every
    /// request fails.
    fn zfailover_near(&self, r: &Route) -> Result<(), String> {
        let zone = self.route_zone(r);
        let found = match (zone, r.slot("children")) {
            (Some(z), Some(SlotValue::Many(list, _))) => list.iter().any(|(k, _)| is_zone(k, z)),
            _ => false,
        };
        if found {
            return Ok(());
        }
        Err(match zone {
            Some(z) => format!(
                "route_zfailover's local zone `{z}` is not a key of its children: the proxy answers SERVER_ERROR lua failure"
            ),
            None => "route_zfailover has no local zone (unknown until the proxy starts)".into(),
        })
    }

    fn many<'r>(&self, r: &'r Route, arg: &str) -> Result<Vec<&'r Target>, String> {
        match r.slot(arg) {
            Some(SlotValue::Many(list, form)) => {
                Ok(self.arrange(list.iter().map(|(_, t)| t).collect(), !form.is_ordered()))
            }
            Some(SlotValue::Single(t)) => Err(format!(
                "route_{} {arg} must be a list or a pool set, not {}",
                r.handler,
                describe(self.cfg, t)
            )),
            None => Err(format!("route_{} has no {arg}", r.handler)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn slot_hops(
        &self,
        r: &Route,
        arg: &str,
        key: &[u8],
        cmd: u8,
        role: Role,
        out: &mut Vec<Hop>,
        depth: usize,
    ) -> Result<(), Halt> {
        match r.slot(arg) {
            Some(SlotValue::Single(t)) => self.target_hops(t, key, cmd, role, out, depth),
            Some(SlotValue::Many(_, form)) if form.names_set() => Err(Halt::Fail(format!(
                "route_{} {arg} names a pool set, not a pool",
                r.handler
            ))),
            Some(SlotValue::Many(..)) => Err(Halt::Fail(format!(
                "route_{} {arg} is a list; it takes one pool or route",
                r.handler
            ))),
            None => Err(Halt::Fail(format!("route_{} has no {arg}", r.handler))),
        }
    }
}

/// Is `k` the children key of zone `z`?
fn is_zone(k: &Key, z: &str) -> bool {
    matches!(k, Key::Str(s) if s == z)
}

/// route_failover's answer from its children's, in the order it tries them:
/// the first hit; a miss ends the walk unless `miss = true` (then a miss is
/// kept and answered if nothing hits); an error moves on. `None`: that child
/// makes the whole request fail (a Lua error), so reaching it is an error.
fn failover_fold(r: &Route, answers: impl Iterator<Item = Option<Answer>>) -> Answer {
    let miss_retries = matches!(r.arg("miss"), Some(Lv::Bool(true)));
    let mut c0 = 1.0; // still trying, no miss kept
    let mut c1 = 0.0; // still trying, a miss kept
    let mut out = Answer::default();
    for a in answers {
        let Some(a) = a else {
            out.err += c0 + c1;
            return out;
        };
        out.hit += (c0 + c1) * a.hit;
        if miss_retries {
            c1 = c1 * (a.miss + a.err) + c0 * a.miss;
            c0 *= a.err;
        } else {
            out.miss += (c0 + c1) * a.miss;
            c0 *= a.err;
            c1 *= a.err;
        }
    }
    out.miss += c1;
    out.err += c0;
    out
}

/// Does `r` (a route_failover with `shuffle = true`) shuffle its children?
fn shuffles(r: &Route) -> bool {
    r.handler == "failover" && matches!(r.arg("shuffle"), Some(Lv::Bool(true)))
}

fn single(s: &SlotValue) -> Option<&Target> {
    match s {
        SlotValue::Single(t) => Some(t),
        _ => None,
    }
}

/// `pool cache`, `pool set set_main zone east`, `route route_direct`...
pub fn describe(cfg: &ProxyConfig, t: &Target) -> String {
    match t {
        Target::Pool(i) => {
            let p = &cfg.pools[*i];
            match &p.set {
                Some(s) => format!("zone {} of pool set {s}", p.name),
                None => format!("pool {}", p.name),
            }
        }
        Target::Internal => "the internal cache".into(),
        Target::Set(s) => format!("pool set {s}"),
        Target::Route(r) => format!("route_{}", r.handler),
        Target::Missing(n, _) => format!("`{n}` (undefined)"),
        Target::Invalid(w) => w.clone(),
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Probability of each answer a request gets.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Answer {
    pub hit: f64,
    pub miss: f64,
    pub err: f64,
}

impl Answer {
    const HIT: Answer = Answer {
        hit: 1.0,
        miss: 0.0,
        err: 0.0,
    };
    const MISS: Answer = Answer {
        hit: 0.0,
        miss: 1.0,
        err: 0.0,
    };
    const ERR: Answer = Answer {
        hit: 0.0,
        miss: 0.0,
        err: 1.0,
    };
}

/// A failure scenario: which backends are down, which hold the key.
pub struct Scenario<'s> {
    pub down: &'s dyn Fn(Option<usize>, usize) -> bool,
    pub holds: &'s dyn Fn(Option<usize>, usize) -> bool,
}

impl Engine<'_> {
    /// What a request gets back (hit / miss / error) under a scenario.
    /// Writes count "stored" as a hit.
    pub fn answer(&self, r: &Route, key: &[u8], cmd: u8, write: bool, sc: &Scenario) -> Answer {
        self.route_answer(r, key, cmd, write, sc, 0)
    }

    fn target_answer(
        &self,
        t: &Target,
        key: &[u8],
        cmd: u8,
        write: bool,
        sc: &Scenario,
        depth: usize,
    ) -> Answer {
        match t {
            Target::Pool(i) => match self.place(*i, key) {
                Ok(b) => {
                    if (sc.down)(Some(*i), b) || self.down(*i, b).is_some() {
                        Answer::ERR
                    } else if write || (sc.holds)(Some(*i), b) {
                        Answer::HIT
                    } else {
                        Answer::MISS
                    }
                }
                Err(_) => Answer::ERR,
            },
            Target::Internal => {
                if write || (sc.holds)(None, 0) {
                    Answer::HIT
                } else {
                    Answer::MISS
                }
            }
            Target::Route(r) => self.route_answer(r, key, cmd, write, sc, depth + 1),
            _ => Answer::ERR,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn slot_answer(
        &self,
        r: &Route,
        arg: &str,
        key: &[u8],
        cmd: u8,
        write: bool,
        sc: &Scenario,
        depth: usize,
    ) -> Answer {
        match r.slot(arg) {
            Some(SlotValue::Single(t)) => self.target_answer(t, key, cmd, write, sc, depth),
            _ => Answer::ERR,
        }
    }

    fn route_answer(
        &self,
        r: &Route,
        key: &[u8],
        cmd: u8,
        write: bool,
        sc: &Scenario,
        depth: usize,
    ) -> Answer {
        if depth > 32 {
            return Answer::ERR;
        }
        match (r.kind, r.handler.as_str()) {
            (HandlerKind::Builtin, "direct" | "ratelim") => {
                self.slot_answer(r, "child", key, cmd, write, sc, depth)
            }
            (HandlerKind::Builtin, "ttl") => {
                if !is_ttl_command(cmd) || r.arg("ttl").is_none() {
                    return Answer::ERR;
                }
                self.slot_answer(r, "child", key, cmd, write, sc, depth)
            }
            (HandlerKind::Builtin, "split") => {
                let b_is_ttl =
                    matches!(r.slot("child_b"), Some(SlotValue::Single(t)) if is_ttl_route(t));
                match r.slot("child_a") {
                    Some(SlotValue::Single(t)) if b_is_ttl && is_ttl_command(cmd) => {
                        self.malformed_answer(t, key, cmd, write, sc, depth)
                    }
                    _ => self.slot_answer(r, "child_a", key, cmd, write, sc, depth),
                }
            }
            (HandlerKind::Builtin, "null") => Answer::MISS,
            (HandlerKind::Builtin, "allasync") => {
                if write {
                    Answer::HIT
                } else {
                    Answer::MISS
                }
            }
            // A route_ttl child given a command it does not rewrite (or with
            // no ttl) answers a string, not a result: route_failover's
            // `res:hit()` on it raises, and the whole request answers
            // SERVER_ERROR lua failure without trying the next children
            // (measured with the real 1.6.38 proxy).
            (HandlerKind::Builtin, "failover") => failover_fold(
                r,
                self.ordered(r).into_iter().map(|t| {
                    let raises = is_ttl_route(t)
                        && matches!(t, Target::Route(tr)
                            if !is_ttl_command(cmd) || tr.arg("ttl").is_none());
                    (!raises).then(|| self.target_answer(t, key, cmd, write, sc, depth))
                }),
            ),
            (HandlerKind::Builtin, "zfailover") => {
                if self.zfailover_near(r).is_err() {
                    return Answer::ERR;
                }
                let children = self.ordered(r);
                let Some((near, far)) = children.split_first() else {
                    return Answer::ERR;
                };
                let a = self.target_answer(near, key, cmd, write, sc, depth);
                let stop_on_miss = matches!(r.arg("miss"), Some(Lv::Bool(false)));
                let mut out = Answer {
                    hit: a.hit,
                    ..Answer::default()
                };
                let cont = if stop_on_miss {
                    out.miss += a.miss;
                    a.err
                } else {
                    a.miss + a.err
                };
                // routelib keeps the last far result it walks unless one is a
                // hit: an error (a nil result) there replaces an earlier miss.
                let fan = self.fan_out_last(far, key, cmd, write, sc, depth);
                out.hit += cont * fan.hit;
                out.miss += cont * fan.miss;
                out.err += cont * fan.err;
                out
            }
            (HandlerKind::Builtin, "allfastest") => match r.slot("children") {
                Some(SlotValue::Many(list, _)) => {
                    self.fan_out(list.iter().map(|(_, t)| t), key, cmd, write, sc, depth)
                }
                _ => Answer::ERR,
            },
            // routelib's allsync waits for every child and answers with the last
            // child's result; a backend failure of an earlier child is not what
            // it returns (measured with the real 1.6.38 proxy: with the first of
            // two copies down every write answers STORED, with the last down the
            // failed keys answer SERVER_ERROR). Children given as a set name are
            // walked with pairs(), so which child is last is unspecified there.
            (HandlerKind::Builtin, "allsync") => match self.many(r, "children") {
                Ok(list) if !list.is_empty() => {
                    self.target_answer(list[list.len() - 1], key, cmd, write, sc, depth)
                }
                _ => Answer::ERR,
            },
            (HandlerKind::Builtin, "random") => match r.slot("children") {
                Some(SlotValue::Many(list, _)) if !list.is_empty() => {
                    let n = list.len() as f64;
                    list.iter().fold(Answer::default(), |acc, (_, t)| {
                        let a = self.target_answer(t, key, cmd, write, sc, depth);
                        Answer {
                            hit: acc.hit + a.hit / n,
                            miss: acc.miss + a.miss / n,
                            err: acc.err + a.err / n,
                        }
                    })
                }
                _ => Answer::ERR,
            },
            (HandlerKind::Custom, _) => self.custom_answer(r, key, cmd, sc, depth),
            _ => {
                // Unmodelled handler: the first child's answer.
                match r.slots.first().map(|s| &s.value) {
                    Some(SlotValue::Single(t)) => self.target_answer(t, key, cmd, write, sc, depth),
                    Some(SlotValue::Many(list, _)) => match list.first() {
                        Some((_, t)) => self.target_answer(t, key, cmd, write, sc, depth),
                        None => Answer::ERR,
                    },
                    None => Answer::ERR,
                }
            }
        }
    }

    /// What `t` answers when the request reaches it already rewritten by a
    /// route_ttl sharing it ([`Engine::malformed_hops`]): the first send is a
    /// client error; a route_failover retries with the rewritten request.
    fn malformed_answer(
        &self,
        t: &Target,
        key: &[u8],
        cmd: u8,
        write: bool,
        sc: &Scenario,
        depth: usize,
    ) -> Answer {
        if depth > 32 {
            return Answer::ERR;
        }
        let Target::Route(r) = t else {
            return Answer::ERR;
        };
        if r.kind != HandlerKind::Builtin {
            return Answer::ERR;
        }
        match r.handler.as_str() {
            "direct" => match r.slot("child") {
                Some(SlotValue::Single(c)) => {
                    self.malformed_answer(c, key, cmd, write, sc, depth + 1)
                }
                _ => Answer::ERR,
            },
            "failover" => {
                let children = self.ordered(r);
                let Some((first, rest)) = children.split_first() else {
                    return Answer::ERR;
                };
                let a = self.malformed_answer(first, key, cmd, write, sc, depth + 1);
                failover_fold(
                    r,
                    std::iter::once(Some(a)).chain(
                        rest.iter()
                            .map(|t| Some(self.target_answer(t, key, cmd, write, sc, depth + 1))),
                    ),
                )
            }
            _ => Answer::ERR,
        }
    }

    /// Asks all at once: any hit wins, else the last one's miss or error.
    fn fan_out_last(
        &self,
        targets: &[&Target],
        key: &[u8],
        cmd: u8,
        write: bool,
        sc: &Scenario,
        depth: usize,
    ) -> Answer {
        let Some(last) = targets.last() else {
            return Answer::ERR;
        };
        let mut no_hit = 1.0;
        for t in targets {
            no_hit *= 1.0 - self.target_answer(t, key, cmd, write, sc, depth).hit;
        }
        let l = self.target_answer(last, key, cmd, write, sc, depth);
        let rest = l.miss + l.err;
        let (miss, err) = if rest > 0.0 {
            (no_hit * l.miss / rest, no_hit * l.err / rest)
        } else {
            (0.0, no_hit)
        };
        Answer {
            hit: 1.0 - no_hit,
            miss,
            err,
        }
    }

    /// Asks all at once: any hit wins, else any miss, else an error.
    fn fan_out<'t>(
        &self,
        targets: impl Iterator<Item = &'t Target>,
        key: &[u8],
        cmd: u8,
        write: bool,
        sc: &Scenario,
        depth: usize,
    ) -> Answer {
        let mut no_hit = 1.0;
        let mut all_err = 1.0;
        let mut any = false;
        for t in targets {
            any = true;
            let a = self.target_answer(t, key, cmd, write, sc, depth);
            no_hit *= 1.0 - a.hit;
            all_err *= a.err;
        }
        if !any {
            return Answer::ERR;
        }
        Answer {
            hit: 1.0 - no_hit,
            miss: no_hit - all_err,
            err: all_err,
        }
    }
}

/// Answers a custom handler's request to one of its children: the child's
/// status and whether it is a route, or why mclint cannot follow it.
type TargetContact<'f> = dyn FnMut(&Target, u8, &[u8]) -> Result<(Status, bool), String> + 'f;

/// What a contact of a custom handler reached while following hops: the
/// hops it added and whether it was a route.
struct HopContact {
    hops: Vec<Hop>,
}

impl<'a> Engine<'a> {
    /// The label and command routelib gives a route's start function
    /// (`ctx:label()`, `ctx:cmd()`): the map prefix, `cmdmap` or `default`
    /// of the entry the route hangs from, and its command (or
    /// `CMD_ANY_STORAGE`).
    fn entry_of(&self, target: &Route) -> (String, u8) {
        let contains = |root: &Route| {
            let mut found = false;
            root.walk(&mut |r| found |= std::ptr::eq(r, target));
            found
        };
        for (prefix, e) in &self.router.map {
            match e {
                MapEntry::Route(r) if contains(r) => return (prefix.clone(), ANY),
                MapEntry::Commands(c, _) => {
                    if let Some((id, _)) = c.iter().find(|(_, r)| contains(r)) {
                        return (prefix.clone(), *id);
                    }
                }
                _ => {}
            }
        }
        if let Some((id, _)) = self.router.cmap.iter().find(|(_, r)| contains(r)) {
            return ("cmdmap".into(), *id);
        }
        ("default".into(), ANY)
    }

    /// Runs custom handler `r` (from a library) for one request; `contact`
    /// answers each request it sends to one of `targets`.
    fn run_custom(
        &self,
        r: &Route,
        key: &[u8],
        cmd: u8,
        contact: &mut TargetContact,
    ) -> HandlerRun {
        let mut targets: Vec<&Target> = Vec::new();
        let mut children = Vec::new();
        for s in &r.slots {
            match &s.value {
                SlotValue::Single(t) => {
                    targets.push(t);
                    children.push((s.arg.clone(), ChildArg::One(targets.len() - 1)));
                }
                SlotValue::Many(list, _) => {
                    let mut many = Vec::new();
                    for (k, t) in list {
                        targets.push(t);
                        many.push((k.clone(), targets.len() - 1));
                    }
                    children.push((s.arg.clone(), ChildArg::Many(many)));
                }
            }
        }
        let libs: Vec<Chunk> = self
            .cfg
            .libs
            .iter()
            .map(|(name, text)| Chunk { name, text })
            .collect();
        let (label, ctx_cmd) = self.entry_of(r);
        let call = HandlerCall {
            libs: &libs,
            files: &self.cfg.opened,
            handler: &r.handler,
            args: &r.args,
            children: &children,
            label: &label,
            ctx_cmd,
            cmd,
            key,
            limits: HANDLER_LIMITS,
        };
        let internal = Target::Internal;
        run_handler(&call, &mut |child, c, k| {
            let t = match child {
                Some(i) => targets.get(i).copied().ok_or("no such child")?,
                None => &internal,
            };
            contact(t, c, k)
        })
    }

    /// The backends custom handler `r` contacts: its run with every backend
    /// up and holding the key, then (for a read) with none holding it, whose
    /// extra contacts are failovers. Several waited-for contacts are `All`;
    /// a copy never waited for is `Async`.
    fn custom_hops(
        &self,
        r: &Route,
        key: &[u8],
        cmd: u8,
        role: Role,
        out: &mut Vec<Hop>,
        depth: usize,
    ) -> Result<(), Halt> {
        let line = r.line.map(|l| format!(" (line {l})")).unwrap_or_default();
        let follow = |holds: bool| -> (HandlerRun, Vec<HopContact>, Option<String>) {
            let mut reached: Vec<HopContact> = Vec::new();
            let mut down = None;
            let run = self.run_custom(r, key, cmd, &mut |t, c, k| {
                let mut hops = Vec::new();
                let res = match self.target_hops(t, k, c, Role::Primary, &mut hops, depth + 1) {
                    Ok(()) if !is_read(c) || holds => Ok((Status::Hit, is_route(t))),
                    Ok(()) => Ok((Status::Miss, is_route(t))),
                    Err(Halt::Down(m)) => {
                        down.get_or_insert(m);
                        Ok((Status::Error, is_route(t)))
                    }
                    Err(Halt::Fail(m)) => Err(m),
                };
                reached.push(HopContact { hops });
                res
            });
            (run, reached, down)
        };
        let (run, reached, down) = follow(true);
        let fail = |o: &HandlerOutcome| -> Option<Halt> {
            match o {
                HandlerOutcome::Answer { .. } => None,
                HandlerOutcome::StartFailed(m) => Some(Halt::Fail(format!(
                    "route_{}{line}: {m}: the proxy does not start with this config",
                    r.handler
                ))),
                HandlerOutcome::RequestFailed(m) => Some(Halt::Fail(format!(
                    "{m}: the proxy answers SERVER_ERROR lua failure"
                ))),
                HandlerOutcome::Unfollowable(m) => Some(Halt::Fail(m.clone())),
            }
        };
        if let Some(h) = fail(&run.outcome) {
            return Err(h);
        }
        let waited = run.contacts.iter().filter(|c| c.waited).count();
        let mut mine: Vec<Hop> = Vec::new();
        for (c, got) in run.contacts.iter().zip(&reached) {
            let outer = if c.cmd != cmd {
                Role::Other
            } else if !c.waited {
                Role::Async
            } else if waited > 1 {
                Role::All
            } else {
                Role::Primary
            };
            for h in &got.hops {
                mine.push(Hop {
                    role: role.max(outer).max(h.role),
                    ..*h
                });
            }
        }
        if is_read(cmd) {
            let (miss_run, miss_reached, _) = follow(false);
            if fail(&miss_run.outcome).is_none() {
                for got in &miss_reached {
                    for h in &got.hops {
                        if !mine
                            .iter()
                            .any(|m| m.pool == h.pool && m.backend == h.backend)
                        {
                            mine.push(Hop {
                                role: role.max(Role::Failover).max(h.role),
                                ..*h
                            });
                        }
                    }
                }
            }
        }
        if mine.is_empty()
            && let Some(m) = down
        {
            return Err(Halt::Down(m));
        }
        out.extend(mine);
        Ok(())
    }

    /// What custom handler `r` answers under a scenario: its run with each
    /// child answering as the scenario makes it (a child whose answer
    /// varies, such as a route_random, gives its likeliest answer).
    fn custom_answer(&self, r: &Route, key: &[u8], cmd: u8, sc: &Scenario, depth: usize) -> Answer {
        let run = self.run_custom(r, key, cmd, &mut |t, c, k| {
            let a = self.target_answer(t, k, c, !is_read(c), sc, depth + 1);
            let s = if a.hit >= a.miss && a.hit >= a.err {
                Status::Hit
            } else if a.miss >= a.err {
                Status::Miss
            } else {
                Status::Error
            };
            Ok((s, is_route(t)))
        });
        match run.outcome {
            HandlerOutcome::Answer {
                status: Status::Hit,
                ..
            } => Answer::HIT,
            HandlerOutcome::Answer {
                status: Status::Miss,
                ..
            } => Answer::MISS,
            _ => Answer::ERR,
        }
    }
}

fn is_route(t: &Target) -> bool {
    matches!(t, Target::Route(_))
}
