use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::manifest::replicas;
use crate::proxy::migration;

pub const RULE: Rule = Rule {
    id: "migration-old-pods-missing",
    severity: Severity::Error,
    summary: "A resharding window reads old-placement pods that the StatefulSet no longer runs.",
    docs: r#"## What it checks
The old placement of a resharding window (a `route_failover` with
`miss = true` over a pool and its previous placement) lists StatefulSet pods
with ordinals at or above the StatefulSet's `replicas`.

## Why it matters
While a pool shrinks (4 pods to 3), the keys the old placement put on pod 3
are read from pod 3 during the window. If the StatefulSet already runs only 3
pods, those reads fail, and the window loses exactly the keys it was meant to
keep; writes and deletes sent to both placements fail for them too.

## Example
`replicas: 3` with `cache_old = { "m-0", "m-1", "m-2", "m-3" }`.

## Fix
Keep the StatefulSet at `max(old, new)` pods until the migration ends (the
chart does this while `cache.migration.fromReplicas` is set), then scale down.
"#,
    fix: "Keep max(old, new) pods in the StatefulSet until the migration ends.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        let Some(ns) = c.namespace(ctx) else { continue };
        let cfg = &c.model;
        for m in migration::find(cfg) {
            let old = &cfg.pools[m.old];
            let mut gone: Vec<u64> = Vec::new();
            let mut sts = None;
            for b in &old.backends {
                if let Some(h) = ctx.hosts().pod_host(ns, &b.host)
                    && h.ordinal >= replicas(&ctx.objects[h.statefulset])
                {
                    gone.push(h.ordinal);
                    sts = Some(h.statefulset);
                }
            }
            let Some(sts) = sts else { continue };
            let sts = &ctx.objects[sts];
            out.push(c.finding(
                ctx,
                &RULE,
                m.line,
                format!(
                    "pool {} (the old placement of {}) reads pods {:?} of StatefulSet {}, which runs {} replicas: the keys placed there miss during the window",
                    old.reference(),
                    cfg.pools[m.new].reference(),
                    gone,
                    sts.name,
                    replicas(sts)
                ),
            ));
        }
    }
}
