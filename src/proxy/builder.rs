//! Builds the model ([`super::model`]) from what the VM recorded: pools and
//! their options and backends, pool sets, routers and their routes, as
//! routelib 1.6.38 builds them.

use super::api;
use super::model::*;
use super::value::{Declared, Key, LuaFailure, Lv, RouteCall, Table};

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
        opened: declared.opened.clone(),
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

pub(super) fn global_options(d: &Declared) -> (Table, Table) {
    let Some((Lv::Table(s), _)) = &d.settings else {
        return (Table::default(), Table::default());
    };
    let get = |k: &str| s.get(k).and_then(Lv::as_table).cloned().unwrap_or_default();
    (get("pool_options"), get("backend_options"))
}

/// `base` with `over`'s entries on top, sorted by key (linear after the sort:
/// an options table of 100,000 keys is hostile input, not a reason to wait).
pub(super) fn overlay(base: &Table, over: &Table) -> Table {
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

pub(super) fn build_pools(cfg: &mut ProxyConfig, d: &Declared, gpo: &Table, gbo: &Table) {
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

pub(super) fn make_pool(
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
pub(super) fn make_backend(
    cfg: &ProxyConfig,
    pool_line: Option<u32>,
    v: &Lv,
    bopts: &Table,
) -> Backend {
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

pub(super) fn is_lua_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

pub(super) fn build_routers(cfg: &mut ProxyConfig, d: &Declared) {
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

pub(super) fn cmd_key(k: &Key) -> Option<u8> {
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

pub(super) fn router_mode(
    cfg: &mut ProxyConfig,
    t: &Table,
    line: Option<u32>,
    has_map: bool,
) -> RouterMode {
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
pub(super) fn make_route(cfg: &mut ProxyConfig, call: &RouteCall, depth: usize) -> Route {
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
    let (count, names) = cfg.pool_names.get_or_init(|| {
        let mut names = std::collections::HashMap::new();
        for (i, p) in cfg.pools.iter().enumerate() {
            if p.set.is_none() {
                names.entry(p.name.clone()).or_insert(i);
            }
        }
        (cfg.pools.len(), names)
    });
    let found = if *count == cfg.pools.len() {
        names.get(name).copied()
    } else {
        // Pools were added after the index was built: look them all up.
        cfg.pools
            .iter()
            .position(|p| p.set.is_none() && p.name == name)
    };
    match found {
        Some(i) => Target::Pool(i),
        None => Target::Missing(name.to_string(), format!("no pool matching: {name}")),
    }
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
