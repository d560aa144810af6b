use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::migration::{self, Shape};

pub const RULE: Rule = Rule {
    id: "migration-placement-diverges",
    severity: Severity::Warning,
    summary: "A resharding window whose old placement is not the new one grown or shrunk at the end.",
    docs: r#"## What it checks
The two pools of a resharding window (a `route_failover` with `miss = true`
over a pool and its previous placement: same seed, same first backend): one
backend list is the other's start (the pool grew or shrank at the end), and,
when the backends are pods of a StatefulSet, the old list is that
StatefulSet's ordinals `0..n-1` in order.

## Why it matters
Jump hash moves few keys only when backends are added or removed at the end.
An old list in another order, or with other pods, places keys elsewhere: the
window then answers from the wrong pods, and far more keys move than a resize
moves.

## Example
`cache = { "m-0", "m-1", "m-2", "m-3" }` with `cache_old = { "m-0", "m-2", "m-1" }`.

## Fix
Keep the old placement's list exactly as the running release had it: the
StatefulSet's first `fromReplicas` pods in ordinal order.
"#,
    fix: "List the old placement as the StatefulSet's first pods, in ordinal order.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        let cfg = &c.model;
        for m in migration::find(cfg) {
            let (new, old) = (&cfg.pools[m.new], &cfg.pools[m.old]);
            if let Shape::Diverges(at) = migration::shape(cfg, &m) {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    m.line,
                    format!(
                        "pool {} (the old placement of {}) differs from it at backend {} ({} vs {}): neither list is the other grown or shrunk at the end, so keys are not where the running release put them",
                        old.reference(),
                        new.reference(),
                        at + 1,
                        old.backends.get(at).map(|b| b.address()).unwrap_or_default(),
                        new.backends.get(at).map(|b| b.address()).unwrap_or_default(),
                    ),
                ));
                continue;
            }
            // In a manifest: the old list is its StatefulSet's 0..n-1.
            let Some(ns) = c.namespace(ctx) else { continue };
            let hosts: Option<Vec<_>> = old
                .backends
                .iter()
                .map(|b| ctx.hosts().pod_host(ns, &b.host))
                .collect();
            let Some(hosts) = hosts else { continue };
            let ords: Vec<u64> = hosts.iter().map(|h| h.ordinal).collect();
            let one_sts = hosts
                .windows(2)
                .all(|w| w[0].statefulset == w[1].statefulset);
            let in_order = ords.iter().enumerate().all(|(i, o)| *o == i as u64);
            if !one_sts || !in_order {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    m.line,
                    format!(
                        "pool {} (the old placement of {}) lists pods with ordinals {:?}{}: not one StatefulSet's pods 0..{} in order",
                        old.reference(),
                        new.reference(),
                        ords,
                        if one_sts { "" } else { " of several StatefulSets" },
                        ords.len().saturating_sub(1)
                    ),
                ));
            }
        }
    }
}
