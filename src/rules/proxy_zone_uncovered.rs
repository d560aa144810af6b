use std::collections::{BTreeMap, BTreeSet};

use super::proxy_zone_mismatch::{child_zones, pool_zone, zone_routes};
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::k8s::pinned_zone;

pub const RULE: Rule = Rule {
    id: "proxy-zone-uncovered",
    severity: Severity::Warning,
    summary: "A zone with a copy and no proxy, or with a proxy and no copy pinned there.",
    docs: r#"## What it checks
Renderings whose proxies are pinned to zones and read zone-first
(`route_zfailover`):
- every zone whose cache copy (a StatefulSet pinned there) those routes read
  has a proxy pinned to it too;
- every zone a proxy is pinned to reads, as its local zone, a copy whose
  StatefulSet is pinned to a zone (a copy that may run anywhere is a zone
  with a proxy and no copy).

## Why it matters
Clients in a zone without a proxy reach a proxy in another zone, which reads
its own zone's copy first: every request crosses zones twice, and the copy in
the client's zone is only read when another zone misses. A local copy that
is not pinned lands in whatever zone the scheduler picks, so the "local"
reads cross zones as often as not.

## Example
`cache.zones: [a, b, c]` rendered, then the DaemonSet of zone `c` deleted
from the manifests; or the node affinity removed from the StatefulSet of
zone `a`.

## Fix
Run a proxy in every zone that holds a copy (one DaemonSet per zone, pinned
there, whose config says `local_zone("<zone>")`), and pin each copy to its
zone (the chart's `cache.zones` does both).
"#,
    fix: "Pin a proxy and a copy to every zone (cache.zones renders both).",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    // Zones with a zone-pinned proxy, and the copies zone-first routes read.
    let mut proxied: BTreeSet<String> = BTreeSet::new();
    let mut any_pinned = false;
    let mut copies: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut unpinned: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (i, (c, _, obj)) in super::proxies::manifest_configs(ctx).enumerate() {
        let routes = zone_routes(&c.model);
        if routes.is_empty() {
            continue;
        }
        if let Some((_, z)) = pinned_zone(obj) {
            any_pinned = true;
            proxied.insert(z);
        }
        let here = pinned_zone(obj).map(|(_, z)| z);
        for r in routes {
            for (zone, pool) in child_zones(r) {
                // The proxy's own zone reads a copy that is not pinned anywhere.
                if here.as_deref() == Some(zone.as_str())
                    && let Some((sts, None)) =
                        pool_zone(ctx, obj.effective_namespace(), &c.model, pool)
                {
                    unpinned.entry(zone.clone()).or_insert((i, sts));
                }
                if let Some((sts, Some(runs_in))) =
                    pool_zone(ctx, obj.effective_namespace(), &c.model, pool)
                    && runs_in == zone
                {
                    copies.entry(zone).or_insert((i, sts));
                }
            }
        }
    }
    if !any_pinned {
        return;
    }
    let configs: Vec<_> = super::proxies::manifest_configs(ctx).collect();
    // A finding on the StatefulSet of a copy, from the config that reads it.
    let mut on_copy = |i: usize, sts: usize, message: String| {
        let sts = &ctx.objects[sts];
        let mut f = configs[i].0.finding(ctx, &RULE, None, message);
        f.object = Some(sts.reference());
        f.location = sts.location("/spec/template/spec");
        out.push(f);
    };
    for (zone, (i, sts)) in unpinned {
        on_copy(
            i,
            sts,
            format!(
                "zone `{zone}` runs a proxy whose local copy (StatefulSet {}) is not pinned to a zone: its pods run wherever they are scheduled, so \"local\" reads cross zones",
                ctx.objects[sts].name
            ),
        );
    }
    let running: Vec<String> = proxied.iter().map(|z| format!("`{z}`")).collect();
    for (zone, (i, sts)) in copies {
        if proxied.contains(&zone) {
            continue;
        }
        on_copy(
            i,
            sts,
            format!(
                "zone `{zone}` holds a copy (StatefulSet {}) but no proxy runs there (proxies run in {}): clients in `{zone}` cross zones to reach a proxy",
                ctx.objects[sts].name,
                running.join(", ")
            ),
        );
    }
}
