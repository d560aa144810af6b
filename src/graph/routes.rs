//! A proxy config's routes as the graph shows them: route groups, their
//! text, the pools and leaves they reach.

use crate::proxy::eval::Engine;
use crate::proxy::model::{
    COMMANDS, HandlerKind, MapEntry, Pool, ProxyConfig, Route, Router, RouterMode, SlotValue,
    Target,
};
use crate::proxy::value::Lv;

use super::model::*;

pub(super) fn pool_lines(pool: &Pool, local_zone: Option<&str>) -> Vec<String> {
    let mut lines = Vec::new();
    match &pool.set {
        Some(_) => {
            let mut first = format!("zone {}", pool.name);
            if local_zone == Some(pool.name.as_str()) {
                first.push_str(" (local zone)");
            }
            lines.push(first);
        }
        None => lines.push(format!("pool {}", pool.name)),
    }
    let n = pool.backends.len();
    let mut second = format!("{n} backend{}", if n == 1 { "" } else { "s" });
    match &pool.dist {
        crate::proxy::model::Dist::Jump => {}
        crate::proxy::model::Dist::Ring => second.push_str(" · ring hash"),
        crate::proxy::model::Dist::Other(d) => second.push_str(&format!(" · dist {d}")),
    }
    if let Some(seed) = &pool.seed {
        second.push_str(&format!(" · seed \"{seed}\""));
    }
    lines.push(second);
    let down = pool.backends.iter().filter(|b| b.down).count();
    if down > 0 {
        lines.push(format!(
            "{down} down: {} keys answer SERVER_ERROR",
            if down == 1 { "its" } else { "their" }
        ));
    }
    match &pool.filter {
        crate::proxy::model::KeyFilter::None => {}
        crate::proxy::model::KeyFilter::Stop(s) => lines.push(format!(
            "hashes the key up to \"{}\"",
            String::from_utf8_lossy(s)
        )),
        crate::proxy::model::KeyFilter::Tags(a, b) => lines.push(format!(
            "hashes the key between \"{}\" and \"{}\"",
            *a as char, *b as char
        )),
    }
    lines
}

/// Commands (or key prefixes) that share one route.
pub(super) struct Group<'r> {
    pub(super) selectors: Vec<String>,
    pub(super) route: &'r Route,
}

/// The route groups of a router: map prefixes, then commands of the cmap and
/// the default, commands with equal routes together.
pub(super) fn groups(router: &Router) -> Vec<Group<'_>> {
    let mut entries: Vec<(usize, String, &Route)> = Vec::new();
    let keys = |prefix: &str| match &router.mode {
        RouterMode::Prefix { stop } => format!("keys {prefix}{}…", String::from_utf8_lossy(stop)),
        RouterMode::Anchor { start, stop } => format!(
            "keys {}{prefix}{}…",
            String::from_utf8_lossy(start),
            String::from_utf8_lossy(stop)
        ),
    };
    for (prefix, e) in &router.map {
        match e {
            MapEntry::Route(r) => entries.push((0, keys(prefix), r)),
            MapEntry::Commands(c, _) => {
                let mut cmds: Vec<&(u8, Route)> = c.iter().collect();
                cmds.sort_by_key(|(id, _)| display_rank(*id));
                for (id, r) in cmds {
                    entries.push((
                        0,
                        format!(
                            "{} {}",
                            keys(prefix),
                            crate::proxy::model::command_name(*id)
                        ),
                        r,
                    ));
                }
            }
        }
    }
    let mut cmap: Vec<&(u8, Route)> = router.cmap.iter().collect();
    cmap.sort_by_key(|(id, _)| display_rank(*id));
    for (id, r) in &cmap {
        entries.push((1, crate::proxy::model::command_name(*id), r));
    }
    if let Some(d) = &router.default {
        let covered: Vec<u8> = router.cmap.iter().map(|(id, _)| *id).collect();
        let mut rest: Vec<u8> = COMMANDS
            .iter()
            .map(|(_, id)| *id)
            .filter(|id| !covered.contains(id))
            .collect();
        rest.sort_by_key(|id| display_rank(*id));
        let names: Vec<String> = rest
            .iter()
            .map(|id| crate::proxy::model::command_name(*id))
            .collect();
        let what = if covered.is_empty() && router.map.is_empty() {
            "every command".to_string()
        } else if names.is_empty() {
            "anything else".to_string()
        } else {
            format!("every other command ({})", names.join(", "))
        };
        entries.push((2, what, d));
    }
    let mut out: Vec<(usize, String, Group)> = Vec::new();
    for (section, selector, route) in entries {
        let sig = signature(route);
        // Map prefixes are never merged with commands.
        match out
            .iter_mut()
            .find(|(s, g, _)| *g == sig && (*s == 0) == (section == 0))
        {
            Some((_, _, g)) => g.selectors.push(selector),
            None => out.push((
                section,
                sig,
                Group {
                    selectors: vec![selector],
                    route,
                },
            )),
        }
    }
    out.into_iter().map(|(_, _, g)| g).collect()
}

/// A route's shape without line numbers: equal routes give equal strings.
pub(super) fn signature(r: &Route) -> String {
    let mut s = format!("{}(", r.handler);
    for (k, v) in r.args.str_keys() {
        if !k.starts_with("child") {
            s.push_str(&format!("{k}={};", v.show()));
        }
    }
    for slot in &r.slots {
        s.push_str(&slot.arg);
        s.push('=');
        match &slot.value {
            SlotValue::Single(t) => s.push_str(&target_signature(t)),
            SlotValue::Many(list, form) => {
                s.push_str(&format!("{form:?}["));
                for (k, t) in list {
                    s.push_str(&format!("{k}:{},", target_signature(t)));
                }
                s.push(']');
            }
        }
        s.push(';');
    }
    s.push(')');
    s
}

pub(super) fn target_signature(t: &Target) -> String {
    match t {
        Target::Pool(i) => format!("pool#{i}"),
        Target::Internal => "internal".into(),
        Target::Set(s) => format!("set:{s}"),
        Target::Route(r) => signature(r),
        Target::Missing(n, _) => format!("missing:{n}"),
        Target::Invalid(w) => format!("invalid:{w}"),
    }
}

pub(super) fn short_target(cfg: &ProxyConfig, engine: &Engine, t: &Target, depth: usize) -> String {
    match t {
        Target::Pool(i) => cfg.pools[*i].reference(),
        Target::Internal => "internal".into(),
        Target::Set(s) => s.clone(),
        Target::Route(r) => route_text(cfg, engine, r, depth + 1),
        Target::Missing(n, _) => format!("{n} (undefined)"),
        Target::Invalid(w) => w.clone(),
    }
}

/// `route_zfailover → set_cache (local first, then cluster)`.
pub fn route_text(cfg: &ProxyConfig, engine: &Engine, r: &Route, depth: usize) -> String {
    let mut head = format!("route_{}", r.handler);
    if r.handler == "ttl"
        && let Some(ttl) = r.arg("ttl")
    {
        head.push_str(&format!(" {}s", ttl.show()));
    }
    if depth > 8 {
        return head;
    }
    let mut parts: Vec<String> = Vec::new();
    let mut note: Option<String> = None;
    for slot in &r.slots {
        match &slot.value {
            SlotValue::Single(t) => parts.push(short_target(cfg, engine, t, depth)),
            SlotValue::Many(list, form) if form.names_set() => {
                let set = list
                    .first()
                    .and_then(|(_, t)| match t {
                        Target::Pool(i) => cfg.pools[*i].set.clone(),
                        _ => None,
                    })
                    .unwrap_or_else(|| "a pool set".into());
                parts.push(set);
                let zones: Vec<String> = engine
                    .ordered(r)
                    .iter()
                    .filter_map(|t| match t {
                        Target::Pool(i) => Some(cfg.pools[*i].name.clone()),
                        _ => None,
                    })
                    .collect();
                note = handler_note(r, &zones);
            }
            SlotValue::Many(list, _) => {
                let names: Vec<String> = list
                    .iter()
                    .map(|(_, t)| short_target(cfg, engine, t, depth))
                    .collect();
                let ordered: Vec<String> = engine
                    .ordered(r)
                    .iter()
                    .map(|t| short_target(cfg, engine, t, depth))
                    .collect();
                parts.push(format!("[{}]", names.join(", ")));
                note = handler_note(r, if ordered.is_empty() { &names } else { &ordered });
            }
        }
    }
    if r.slots.is_empty() && r.handler == "null" {
        return format!("{head} (answers nothing)");
    }
    let mut s = head;
    if !parts.is_empty() {
        s.push_str(" → ");
        s.push_str(&parts.join(", "));
    }
    if let Some(n) = note {
        s.push_str(&format!(" ({n})"));
    }
    s
}

/// What a many-children handler does with its children, in words.
pub(super) fn handler_note(r: &Route, ordered: &[String]) -> Option<String> {
    if r.kind != HandlerKind::Builtin {
        return None;
    }
    let miss_fails = |default: bool| {
        r.arg("miss")
            .map(|v| matches!(v, Lv::Bool(true)))
            .unwrap_or(default)
    };
    Some(match r.handler.as_str() {
        "zfailover" | "failover" => {
            let (first, rest) = ordered.split_first()?;
            if rest.is_empty() {
                return Some(format!("{first} only"));
            }
            let when = if miss_fails(r.handler == "zfailover") {
                "on a miss or error"
            } else {
                "on an error"
            };
            format!("{first} first, then {} {when}", rest.join(", "))
        }
        "allsync" => "all, waits for every answer".into(),
        "allfastest" if miss_fails(false) => "all, the first hit wins".into(),
        "allfastest" => "all, the first answer wins, a miss too".into(),
        "allasync" => "all, without waiting".into(),
        "random" => "one at random".into(),
        _ => return None,
    })
}

#[derive(Debug, Clone)]
pub(super) enum LeafTarget {
    Pool(usize),
    Internal,
    Missing(String, String),
}

#[derive(Debug, Clone)]
pub(super) struct Leaf {
    pub(super) target: LeafTarget,
    pub(super) labels: Vec<String>,
    pub(super) dashed: bool,
}

/// Where a route sends requests, with what each hop means (`1st`, `ttl 30s`...).
pub(super) fn collect_leaves(
    engine: &Engine,
    r: &Route,
    labels: &[String],
    dashed: bool,
    out: &mut Vec<Leaf>,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    let with = |extra: Option<String>| -> Vec<String> {
        let mut v = labels.to_vec();
        if let Some(e) = extra {
            v.push(e);
        }
        v
    };
    let visit = |t: &Target, extra: Option<String>, dash: bool, out: &mut Vec<Leaf>| {
        let labels = with(extra);
        let dashed = dashed || dash;
        match t {
            Target::Pool(i) => out.push(Leaf {
                target: LeafTarget::Pool(*i),
                labels,
                dashed,
            }),
            Target::Internal => out.push(Leaf {
                target: LeafTarget::Internal,
                labels,
                dashed,
            }),
            Target::Route(inner) => collect_leaves(engine, inner, &labels, dashed, out, depth + 1),
            Target::Set(s) => out.push(Leaf {
                target: LeafTarget::Missing(s.clone(), "a single child names a pool set".into()),
                labels,
                dashed,
            }),
            Target::Missing(n, why) => out.push(Leaf {
                target: LeafTarget::Missing(n.clone(), why.clone()),
                labels,
                dashed,
            }),
            Target::Invalid(w) => out.push(Leaf {
                target: LeafTarget::Missing(w.clone(), "not a pool or a route".into()),
                labels,
                dashed,
            }),
        }
    };
    let builtin = r.kind == HandlerKind::Builtin;
    match (builtin, r.handler.as_str()) {
        (true, "ttl") => {
            let ttl = r.arg("ttl").map(|v| format!("ttl {}s", v.show()));
            if let Some(SlotValue::Single(t)) = r.slot("child") {
                visit(t, ttl, false, out);
            }
        }
        (true, "split") => {
            if let Some(SlotValue::Single(t)) = r.slot("child_a") {
                visit(t, None, false, out);
            }
            if let Some(SlotValue::Single(t)) = r.slot("child_b") {
                visit(t, Some("copy, not waited for".into()), true, out);
            }
        }
        (true, "failover" | "zfailover") => {
            let miss = r
                .arg("miss")
                .map(|v| matches!(v, Lv::Bool(true)))
                .unwrap_or(r.handler == "zfailover");
            for (i, t) in engine.ordered(r).into_iter().enumerate() {
                let label = if i == 0 {
                    "1st".to_string()
                } else if miss {
                    "on a miss or error".to_string()
                } else {
                    "on an error".to_string()
                };
                visit(t, Some(label), i > 0, out);
            }
        }
        (true, "allasync") => {
            for s in &r.slots {
                if let SlotValue::Many(list, _) = &s.value {
                    for (_, t) in list {
                        visit(t, Some("no wait".into()), true, out);
                    }
                }
            }
        }
        (true, "random") => {
            for s in &r.slots {
                if let SlotValue::Many(list, _) = &s.value {
                    for (_, t) in list {
                        visit(t, Some("random".into()), true, out);
                    }
                }
            }
        }
        (true, "allsync" | "allfastest" | "direct" | "ratelim") => {
            for s in &r.slots {
                match &s.value {
                    SlotValue::Single(t) => visit(t, None, false, out),
                    SlotValue::Many(list, _) => {
                        for (_, t) in list {
                            visit(t, None, false, out);
                        }
                    }
                }
            }
        }
        _ => {
            // A handler from a library (or unknown): its children in order.
            for s in &r.slots {
                match &s.value {
                    SlotValue::Single(t) => visit(t, None, false, out),
                    SlotValue::Many(list, _) => {
                        let many = list.len() > 1;
                        for (i, (_, t)) in list.iter().enumerate() {
                            visit(t, many.then(|| format!("#{}", i + 1)), false, out);
                        }
                    }
                }
            }
        }
    }
}

pub(super) fn display_rank(cmd: u8) -> usize {
    let name = crate::proxy::model::command_name(cmd);
    DISPLAY_ORDER
        .iter()
        .position(|n| *n == name)
        .unwrap_or(DISPLAY_ORDER.len() + cmd as usize)
}
