use std::collections::BTreeSet;

use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::k8s::pinned_zone;
use crate::proxy::Loaded;
use crate::proxy::model::{HandlerKind, ProxyConfig, Route, SlotValue, Target};
use crate::proxy::value::{Key, Lv};

pub const RULE: Rule = Rule {
    id: "proxy-zone-mismatch",
    severity: Severity::Error,
    summary: "A zone-pinned proxy or cache copy is not in the zone its config says.",
    docs: r#"## What it checks
Proxies whose pods are pinned to a zone (a `nodeSelector` or required node
affinity on `topology.kubernetes.io/zone`, or another zone label) and whose
config reads zone-first (`local_zone(...)` with `route_zfailover`):
- the proxy's local zone is the zone its pods are pinned to;
- each zone of the route's children is served by cache pods pinned to that
  zone (the StatefulSet its pool's backends belong to).

## Why it matters
`route_zfailover` reads the child named by the local zone first. A proxy in
zone `a` whose config says `local_zone("b")` sends every read across zones
first, and a copy filed under zone `a` whose pods run in zone `b` does the
same: the cross-zone traffic the layout exists to avoid, on every read.

## Example
A DaemonSet pinned to `zone-a` mounting the config of `zone-b`; a pool set
`set_zones = { ["zone-a"] = { backends = { "memcached-zone-b-0..." } } }`.

## Fix
Give each zone's proxies the config whose `local_zone` names their zone, and
file each copy under the zone its StatefulSet is pinned to (the chart's
`cache.zones` renders both).
"#,
    fix: "Pin each zone's proxies and cache copy to the zone their config names.",
    check,
    scope: Scope::Set,
};

/// The local zone of a zone-first route: its own argument, else the global one.
pub(super) fn route_zone<'c>(cfg: &'c ProxyConfig, r: &'c Route) -> Option<&'c str> {
    r.arg("local_zone")
        .and_then(Lv::as_str)
        .or_else(|| cfg.local_zone.as_ref().and_then(|z| z.value.as_deref()))
}

/// The zone-first routes of a config.
pub(super) fn zone_routes(cfg: &ProxyConfig) -> Vec<&Route> {
    let mut out = Vec::new();
    cfg.routes(&mut |r| {
        if r.kind == HandlerKind::Builtin && r.handler == "zfailover" {
            out.push(r);
        }
    });
    out
}

/// The first pool a child reaches (a pool, or the first pool below a route).
pub(super) fn first_pool(t: &Target) -> Option<usize> {
    match t {
        Target::Pool(i) => Some(*i),
        Target::Route(r) => r.slots.iter().find_map(|s| match &s.value {
            SlotValue::Single(t) => first_pool(t),
            SlotValue::Many(list, _) => list.iter().find_map(|(_, t)| first_pool(t)),
        }),
        _ => None,
    }
}

/// The zones (children keys) of a zone-first route with the pool each reads first.
pub(super) fn child_zones(r: &Route) -> Vec<(String, usize)> {
    match r.slot("children") {
        Some(SlotValue::Many(list, _)) => list
            .iter()
            .filter_map(|(k, t)| match k {
                Key::Str(z) => Some((z.clone(), first_pool(t)?)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The StatefulSet whose pods a pool lists (all from one), with its pinned zone.
pub(super) fn pool_zone(
    ctx: &Context,
    ns: &str,
    cfg: &ProxyConfig,
    pool: usize,
) -> Option<(usize, Option<String>)> {
    let mut sts = None;
    for b in &cfg.pools[pool].backends {
        let h = ctx.hosts().pod_host(ns, &b.host)?;
        match sts {
            Some(s) if s != h.statefulset => return None,
            _ => sts = Some(h.statefulset),
        }
    }
    let sts = sts?;
    Some((sts, pinned_zone(&ctx.objects[sts]).map(|(_, z)| z)))
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (c, _, obj) in super::proxies::manifest_configs(ctx) {
        check_config(ctx, c, obj, out);
    }
}

fn check_config(ctx: &Context, c: &Loaded, obj: &crate::manifest::Object, out: &mut Vec<Finding>) {
    let cfg = &c.model;
    let ns = obj.effective_namespace();
    let pinned = pinned_zone(obj);
    let mut said: BTreeSet<String> = BTreeSet::new();
    for r in zone_routes(cfg) {
        if let (Some((label, here)), Some(zone)) = (&pinned, route_zone(cfg, r))
            && here != zone
            && said.insert(format!("local {zone}"))
        {
            let line = if r.arg("local_zone").is_some() {
                r.line
            } else {
                cfg.local_zone.as_ref().and_then(|z| z.line).or(r.line)
            };
            out.push(c.finding(
                ctx,
                &RULE,
                line,
                format!(
                    "local zone `{zone}`, but {} {} runs its proxies in zone `{here}` ({label}): every read goes to zone `{zone}` first, across zones",
                    obj.kind, obj.name
                ),
            ));
        }
        for (zone, pool) in child_zones(r) {
            let Some((sts, Some(runs_in))) = pool_zone(ctx, ns, cfg, pool) else {
                continue;
            };
            if runs_in != zone && said.insert(format!("copy {zone}")) {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    r.line,
                    format!(
                        "zone `{zone}` of route_{} reads pool {}, whose StatefulSet {} runs in zone `{runs_in}`: proxies in `{zone}` read first from pods in `{runs_in}`, across zones",
                        r.handler,
                        cfg.pools[pool].reference(),
                        ctx.objects[sts].name
                    ),
                ));
            }
        }
    }
}
