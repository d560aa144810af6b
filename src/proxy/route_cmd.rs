//! `mclint route`: where keys go through a proxy config, how evenly synthetic
//! keys spread, and what a backend outage does to reads and writes.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use anyhow::{Context as _, bail};

use super::eval::{Answer, Engine, Hop, Role, Scenario};
use super::model::{ProxyConfig, command_id, is_read, is_ttl_command};
use super::{EnvSource, Library, Limits};
use crate::manifest::{InputKind, as_object, parse_stream, read_inputs};

/// What `mclint route` was asked (built from the command line).
#[derive(Debug, Clone, Default)]
pub struct RouteRequest {
    pub paths: Vec<PathBuf>,
    pub keys: Vec<String>,
    pub keys_file: Option<PathBuf>,
    pub command: String,
    pub proxy: Option<String>,
    pub config: Option<PathBuf>,
    pub libs: Vec<PathBuf>,
    pub env: Vec<String>,
    pub tag: String,
    pub stats: Option<usize>,
    pub fail: Option<String>,
}

/// One key's route.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub key: String,
    pub command: String,
    pub route: String,
    pub backends: Vec<PlacedBackend>,
    pub error: Option<String>,
    /// Where the real proxy's order is not fixed (so the backends' order, or
    /// the answer, differs between worker threads).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlacedBackend {
    pub pool: String,
    pub backend: String,
    pub label: String,
    pub role: &'static str,
}

/// Keys per backend of one pool.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolSpread {
    pub pool: String,
    pub backends: Vec<(String, String, usize)>,
    pub total: usize,
    /// Largest count over the mean (1.0 is perfectly even).
    pub imbalance: f64,
}

/// What an outage does to one route.
#[derive(Debug, Clone, PartialEq)]
pub struct Outage {
    pub route: String,
    pub command: String,
    pub keys: usize,
    /// In the model's order (children of a pool set or map in name order).
    pub answer: Answer,
    /// When the answer depends on an order the proxy leaves to each worker
    /// thread: the least and the most of each share over the orders tried
    /// (each unordered child list rotated so every child comes last once).
    pub range: Option<(Answer, Answer)>,
    /// Why the answer depends on the worker thread.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RouteOutput {
    Placements(Vec<Placement>),
    Stats {
        keys: usize,
        command: String,
        pools: Vec<PoolSpread>,
        unrouted: usize,
    },
    Fail {
        backend: String,
        keys: usize,
        outages: Vec<Outage>,
    },
}

/// Finds the config, runs it and answers the request, with every placement
/// collected (see [`run_with`] to stream them).
pub fn run(req: &RouteRequest) -> anyhow::Result<RouteOutput> {
    let mut list = Vec::new();
    let out = run_with(req, &mut |p| {
        list.push(p.clone());
        Ok(())
    })?;
    Ok(out.unwrap_or(RouteOutput::Placements(list)))
}

/// Finds the config and answers the request. Placements of keys are handed to
/// `sink` one by one as they are made (so a million keys take no more memory
/// than one), and `None` is returned; `--stats` and `--fail` return their
/// summary.
pub fn run_with(
    req: &RouteRequest,
    sink: &mut dyn FnMut(&Placement) -> anyhow::Result<()>,
) -> anyhow::Result<Option<RouteOutput>> {
    let cfg = load_config(req)?;
    if let Some(f) = &cfg.failure {
        bail!(
            "{}:{}: the config does not load: {}",
            f.file,
            f.line.map(|l| l.to_string()).unwrap_or_else(|| "?".into()),
            f.message
        );
    }
    let cmd = command_id(&req.command)
        .filter(|&c| c != super::model::CMD_ANY_STORAGE)
        .with_context(|| {
            format!(
                "unknown --command `{}` (one of: {})",
                req.command,
                super::model::COMMANDS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
    let engine = Engine::new(&cfg, &req.tag).map_err(anyhow::Error::msg)?;
    let file_text = match &req.keys_file {
        Some(f) => std::fs::read_to_string(f)
            .with_context(|| format!("reading --keys-file {}", f.display()))?,
        None => String::new(),
    };
    let keys = req
        .keys
        .iter()
        .map(String::as_str)
        .chain(keys_in(&file_text));
    if let Some(backend) = &req.fail {
        let n = req.stats.unwrap_or(10_000);
        let templates: Vec<String> = keys.map(str::to_string).collect();
        return fail(&engine, backend, &synthetic(&templates, n)).map(Some);
    }
    if let Some(n) = req.stats {
        let templates: Vec<String> = keys.map(str::to_string).collect();
        return Ok(Some(stats(
            &engine,
            cmd,
            &req.command,
            &synthetic(&templates, n),
        )));
    }
    let mut placer = Placements::new(&engine, cmd);
    let mut any = false;
    for k in keys {
        any = true;
        sink(placer.place(k))?;
    }
    if !any {
        bail!("give keys with --key or --keys-file (or ask for --stats N or --fail BACKEND)");
    }
    Ok(None)
}

/// The keys of a keys file: one per line, `\r\n` or `\n`, empty lines skipped.
pub fn keys_in(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty())
}

/// Places key after key into one reused [`Placement`]: the backends of each
/// pool are described once, and the notes of each route (they do not depend on
/// the key) are worked out once.
pub struct Placements<'e, 'a> {
    engine: &'e Engine<'a>,
    cmd: u8,
    command: String,
    described: Vec<Vec<PlacedBackend>>,
    notes: HashMap<*const super::model::Route, Vec<String>>,
    hops: Vec<Hop>,
    current: Placement,
}

impl<'e, 'a> Placements<'e, 'a> {
    pub fn new(engine: &'e Engine<'a>, cmd: u8) -> Self {
        let cfg = engine.cfg;
        let described = cfg
            .pools
            .iter()
            .enumerate()
            .map(|(i, p)| {
                (0..p.backends.len())
                    .map(|b| {
                        describe_hop(
                            cfg,
                            &Hop {
                                pool: Some(i),
                                backend: b,
                                role: Role::Primary,
                            },
                        )
                    })
                    .collect()
            })
            .collect();
        Placements {
            engine,
            cmd,
            command: super::model::command_name(cmd),
            described,
            notes: HashMap::new(),
            hops: Vec::new(),
            current: Placement {
                key: String::new(),
                command: String::new(),
                route: String::new(),
                backends: Vec::new(),
                error: None,
                notes: Vec::new(),
            },
        }
    }

    /// The route and ordered backends of `key`.
    pub fn place(&mut self, key: &str) -> &Placement {
        let engine = self.engine;
        let cmd = self.cmd;
        let sel = engine.select(key.as_bytes(), cmd);
        self.hops.clear();
        let p = &mut self.current;
        p.key.clear();
        p.key.push_str(key);
        p.command.clone_from(&self.command);
        p.route.clear();
        p.route.push_str(&sel.label);
        p.error = match sel.route {
            None => Some(
                "no route handles this command: the proxy answers SERVER_ERROR lua start failure"
                    .to_string(),
            ),
            Some(r) => engine.hops(r, key.as_bytes(), cmd, &mut self.hops).err(),
        };
        p.notes.clear();
        if let Some(r) = sel.route {
            let notes = self.notes.entry(r as *const _).or_insert_with(|| {
                let mut n = Vec::new();
                engine.order_notes(r, &mut n);
                behaviour_notes(engine.cfg, r, cmd, &mut n);
                n.into_iter().map(|(n, _)| n).collect()
            });
            p.notes.extend(notes.iter().cloned());
        }
        p.backends.clear();
        for h in &self.hops {
            let mut b = match h.pool {
                Some(i) => self.described[i][h.backend].clone(),
                None => describe_hop(engine.cfg, h),
            };
            b.role = h.role.as_str();
            p.backends.push(b);
        }
        &self.current
    }
}

/// `N` keys: `key:0`, `key:1`, ... or, with --key given, `<key>0`, `<key>1`, ...
fn synthetic(templates: &[String], n: usize) -> Vec<String> {
    let prefixes: Vec<&str> = if templates.is_empty() {
        vec!["key:"]
    } else {
        templates.iter().map(String::as_str).collect()
    };
    (0..n)
        .map(|i| format!("{}{i}", prefixes[i % prefixes.len()]))
        .collect()
}

/// What the backends list alone does not say: a TTL rewritten on the way, a
/// handler mclint does not model.
fn behaviour_notes(
    cfg: &ProxyConfig,
    r: &super::model::Route,
    cmd: u8,
    out: &mut Vec<(String, usize)>,
) {
    use super::model::{HandlerKind, SlotValue};
    r.walk(&mut |r| {
        let line = r.line.map(|l| format!(" (line {l})")).unwrap_or_default();
        match r.kind {
            HandlerKind::Builtin if r.handler == "ttl" && is_ttl_command(cmd) => {
                let ttl = r
                    .arg("ttl")
                    .map(|v| v.show())
                    .unwrap_or_else(|| "nil".into());
                let to = match r.slot("child") {
                    Some(SlotValue::Single(t)) => super::eval::describe(cfg, t),
                    _ => "its child".into(),
                };
                out.push((
                    format!("route_ttl{line} rewrites the TTL to {ttl} seconds before it reaches {to}"),
                    1,
                ));
            }
            HandlerKind::Builtin
                if r.handler == "allfastest"
                    && is_read(cmd)
                    && !r.arg("miss").is_some_and(super::vm::Lv::truthy) =>
            {
                out.push((
                    format!(
                        "route_allfastest{line} answers with the first reply, a miss included: a copy that restarted empty can answer for the others (miss = true waits for a hit)"
                    ),
                    1,
                ));
            }
            HandlerKind::Custom => out.push((
                format!(
                    "route_{}{line} is a handler from a library, which mclint does not model: its children are listed in order, and its answer is taken to be its first child's",
                    r.handler
                ),
                1,
            )),
            _ => {}
        }
    });
}

fn describe_hop(cfg: &ProxyConfig, h: &Hop) -> PlacedBackend {
    match h.pool {
        Some(p) => {
            let pool = &cfg.pools[p];
            let b = &pool.backends[h.backend];
            PlacedBackend {
                pool: pool.reference(),
                backend: b.address(),
                label: b.label.clone(),
                role: h.role.as_str(),
            }
        }
        None => PlacedBackend {
            pool: "internal".into(),
            backend: "internal".into(),
            label: "internal".into(),
            role: h.role.as_str(),
        },
    }
}

fn stats(engine: &Engine, cmd: u8, command: &str, keys: &[String]) -> RouteOutput {
    let cfg = engine.cfg;
    let mut counts: Vec<Vec<usize>> = cfg
        .pools
        .iter()
        .map(|p| vec![0; p.backends.len()])
        .collect();
    let mut unrouted = 0;
    let mut hops = Vec::new();
    for k in keys {
        hops.clear();
        let sel = engine.select(k.as_bytes(), cmd);
        let Some(r) = sel.route else {
            unrouted += 1;
            continue;
        };
        if engine.hops(r, k.as_bytes(), cmd, &mut hops).is_err() {
            unrouted += 1;
            continue;
        }
        for h in &hops {
            if let Some(p) = h.pool {
                counts[p][h.backend] += 1;
            }
        }
    }
    let pools = cfg
        .pools
        .iter()
        .zip(counts)
        .filter(|(_, c)| c.iter().sum::<usize>() > 0)
        .map(|(p, c)| {
            let total: usize = c.iter().sum();
            let mean = total as f64 / c.len() as f64;
            let max = c.iter().copied().max().unwrap_or(0) as f64;
            PoolSpread {
                pool: p.reference(),
                backends: p
                    .backends
                    .iter()
                    .zip(&c)
                    .map(|(b, n)| (b.address(), b.label.clone(), *n))
                    .collect(),
                total,
                imbalance: if mean > 0.0 { max / mean } else { 0.0 },
            }
        })
        .collect();
    RouteOutput::Stats {
        keys: keys.len(),
        command: command.to_string(),
        pools,
        unrouted,
    }
}

fn fail(engine: &Engine, backend: &str, keys: &[String]) -> anyhow::Result<RouteOutput> {
    let cfg = engine.cfg;
    let matches = |p: Option<usize>, b: usize| -> bool {
        p.is_some_and(|p| {
            let be = &cfg.pools[p].backends[b];
            be.address() == backend || be.written == backend || be.label == backend
        })
    };
    if !cfg
        .pools
        .iter()
        .enumerate()
        .any(|(p, pool)| (0..pool.backends.len()).any(|b| matches(Some(p), b)))
    {
        let all: Vec<String> = cfg
            .pools
            .iter()
            .flat_map(|p| p.backends.iter().map(|b| b.address()))
            .collect();
        bail!(
            "--fail {backend}: no pool has that backend (backends: {})",
            all.join(", ")
        );
    }
    // Every order a worker thread may walk unordered child lists in: enough
    // rotations for each child of the longest such list to come last once.
    let mut notes: BTreeMap<(String, &'static str), Vec<String>> = BTreeMap::new();
    let mut orders = 1;
    for k in keys {
        for (cmd, name) in [
            (command_id("get").unwrap_or(7), "get"),
            (command_id("set").unwrap_or(9), "set"),
        ] {
            let sel = engine.select(k.as_bytes(), cmd);
            if let Some(r) = sel.route {
                let e = notes.entry((sel.label.into_owned(), name)).or_default();
                if e.is_empty() {
                    let mut found = Vec::new();
                    engine.order_notes(r, &mut found);
                    for (n, count) in found {
                        orders = orders.max(count);
                        e.push(n);
                    }
                }
            }
        }
    }
    let base = fail_once(engine, &matches, keys);
    let mut lo = base.clone();
    let mut hi = base.clone();
    for k in 1..orders {
        let other = fail_once(&engine.rotated(k), &matches, keys);
        for (route, (_, a)) in other {
            if let (Some((_, l)), Some((_, h))) = (lo.get_mut(&route), hi.get_mut(&route)) {
                for (x, y, v) in [
                    (&mut l.hit, &mut h.hit, a.hit),
                    (&mut l.miss, &mut h.miss, a.miss),
                    (&mut l.err, &mut h.err, a.err),
                ] {
                    *x = x.min(v);
                    *y = y.max(v);
                }
            }
        }
    }
    let outages = base
        .into_iter()
        .map(|(route, (n, answer))| {
            let (l, h) = (lo[&route].1, hi[&route].1);
            let differs = (h.hit - l.hit).abs() > 1e-12
                || (h.miss - l.miss).abs() > 1e-12
                || (h.err - l.err).abs() > 1e-12;
            Outage {
                notes: notes.remove(&route).unwrap_or_default(),
                route: route.0,
                command: route.1.to_string(),
                keys: n,
                answer,
                range: differs.then_some((l, h)),
            }
        })
        .collect();
    Ok(RouteOutput::Fail {
        backend: backend.to_string(),
        keys: keys.len(),
        outages,
    })
}

type ByRoute = BTreeMap<(String, &'static str), (usize, Answer)>;

/// Share of hit / miss / error per (route, command) with the matching backends
/// down, in the order `engine` walks children.
fn fail_once(
    engine: &Engine,
    matches: &dyn Fn(Option<usize>, usize) -> bool,
    keys: &[String],
) -> ByRoute {
    let read = command_id("get").unwrap_or(7);
    let write = command_id("set").unwrap_or(9);
    let mut by_route: ByRoute = BTreeMap::new();
    let mut hops = Vec::new();
    for k in keys {
        let key = k.as_bytes();
        // Where the key was stored while everything was up.
        hops.clear();
        let wsel = engine.select(key, write);
        if let Some(r) = wsel.route {
            let _ = engine.hops(r, key, write, &mut hops);
        }
        let stored: Vec<(Option<usize>, usize)> = hops
            .iter()
            .filter(|h| h.role != Role::Failover)
            .map(|h| (h.pool, h.backend))
            .collect();
        let holds = |p: Option<usize>, b: usize| stored.contains(&(p, b));
        let down = |p: Option<usize>, b: usize| matches(p, b);
        let sc = Scenario {
            down: &down,
            holds: &holds,
        };
        for (cmd, name) in [(read, "get"), (write, "set")] {
            let sel = engine.select(key, cmd);
            let a = match sel.route {
                Some(r) => engine.answer(r, key, cmd, !is_read(cmd), &sc),
                None => Answer {
                    err: 1.0,
                    ..Answer::default()
                },
            };
            let e = by_route
                .entry((sel.label.into_owned(), name))
                .or_insert((0, Answer::default()));
            e.0 += 1;
            e.1.hit += a.hit;
            e.1.miss += a.miss;
            e.1.err += a.err;
        }
    }
    for (n, sum) in by_route.values_mut() {
        let n = *n as f64;
        *sum = Answer {
            hit: sum.hit / n,
            miss: sum.miss / n,
            err: sum.err / n,
        };
    }
    by_route
}

/// A proxy config that can be loaded on demand.
type Candidate<'a> = Box<dyn Fn() -> anyhow::Result<ProxyConfig> + 'a>;

/// The config to route with: `--config FILE.lua`, or a proxy found in PATHS
/// (`--proxy` picks one), or a single `.lua` among PATHS.
pub fn load_config(req: &RouteRequest) -> anyhow::Result<ProxyConfig> {
    let mut env = BTreeMap::new();
    for e in &req.env {
        let (k, v) = e
            .split_once('=')
            .with_context(|| format!("--env {e}: expected NAME=VALUE"))?;
        env.insert(k.to_string(), v.to_string());
    }
    let env_source = if req.env.is_empty() {
        EnvSource::Unknown
    } else {
        EnvSource::Known(env)
    };
    let mut libs = Vec::new();
    for l in &req.libs {
        libs.push(Library {
            name: l.display().to_string(),
            text: std::fs::read_to_string(l)
                .with_context(|| format!("reading --lib {}", l.display()))?,
        });
    }
    if let Some(path) = &req.config {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading --config {}", path.display()))?;
        return Ok(super::load(
            &path.display().to_string(),
            &text,
            &libs,
            &env_source,
            Limits::default(),
        ));
    }
    if req.paths.is_empty() {
        bail!(
            "give a proxy config with --config FILE.lua, or rendered manifests / .lua files as PATHS"
        );
    }
    let (inputs, errors) = read_inputs(&req.paths, &mut std::io::stdin().lock());
    if let Some(e) = errors.first() {
        bail!("{e}");
    }
    let lua: Vec<_> = inputs.iter().filter(|i| i.kind == InputKind::Lua).collect();
    let docs: Vec<_> = inputs
        .iter()
        .filter(|i| i.kind == InputKind::Yaml)
        .flat_map(parse_stream)
        .collect();
    let objects: Vec<_> = docs
        .iter()
        .filter_map(|d| as_object(d).and_then(Result::ok))
        .collect();
    let found = super::manifest::find_proxies(&objects);
    let mut candidates: Vec<(String, Candidate)> = Vec::new();
    for l in &lua {
        let libs = &libs;
        let env_source = &env_source;
        candidates.push((
            l.name.to_string(),
            Box::new(move || {
                Ok(super::load(
                    &l.name,
                    &l.text,
                    libs,
                    env_source,
                    Limits::default(),
                ))
            }),
        ));
    }
    for f in &found {
        let objects = &objects;
        candidates.push((
            f.name(objects),
            Box::new(move || match &f.config {
                Ok(_) => f.load(objects).context("loading the proxy config"),
                Err(e) => bail!("{e}"),
            }),
        ));
    }
    let names: Vec<String> = candidates.iter().map(|(n, _)| n.clone()).collect();
    let picked: Vec<_> = match &req.proxy {
        Some(want) => candidates
            .into_iter()
            .filter(|(name, _)| name == want || name.contains(want.as_str()))
            .collect(),
        None => candidates,
    };
    match picked.len() {
        0 if req.proxy.is_some() && !names.is_empty() => bail!(
            "--proxy {}: no proxy matches; proxies: {}",
            req.proxy.as_deref().unwrap_or_default(),
            names.join("; ")
        ),
        0 => bail!(
            "no proxy config found{} (a proxy is a container running memcached -o proxy_config=routelib,proxy_arg=PATH)",
            req.proxy
                .as_ref()
                .map(|p| format!(" matching --proxy {p}"))
                .unwrap_or_default()
        ),
        1 => (picked[0].1)(),
        // Proxies that run the same config (an app and its `helm test` pod
        // mounting one ConfigMap) route alike: any of them will do.
        _ if same_config(&picked) => (picked[0].1)(),
        _ => bail!(
            "several proxies found; pick one with --proxy: {}",
            picked
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

/// Do all candidates load, and to the same routes?
fn same_config(picked: &[(String, Candidate)]) -> bool {
    let mut first: Option<String> = None;
    for (_, load) in picked {
        let Ok(c) = load() else { return false };
        if c.failure.is_some() {
            return false;
        }
        let shape = format!(
            "{}\n{:?}\n{:?}\n{:?}\n{:?}",
            c.text, c.pools, c.routers, c.local_zone, c.custom_handlers
        );
        match &first {
            None => first = Some(shape),
            Some(f) if *f == shape => {}
            Some(_) => return false,
        }
    }
    true
}

impl From<&crate::cli::RouteArgs> for RouteRequest {
    fn from(a: &crate::cli::RouteArgs) -> RouteRequest {
        RouteRequest {
            paths: a.paths.clone(),
            keys: a.keys.clone(),
            keys_file: a.keys_file.clone(),
            command: a.command.clone(),
            proxy: a.proxy.clone(),
            config: a.config.clone(),
            libs: a.lib.clone(),
            env: a.env.clone(),
            tag: a.tag.clone(),
            stats: a.stats,
            fail: a.fail.clone(),
        }
    }
}
