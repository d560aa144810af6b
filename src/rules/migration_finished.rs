use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::migration::{self, Shape};

pub const RULE: Rule = Rule {
    id: "migration-finished",
    severity: Severity::Warning,
    summary: "A resharding window whose old and new placements are the same: the migration is over.",
    docs: r#"## What it checks
A resharding window (`route_failover { children = { "cache", "cache_old" },
miss = true }` over two pools with the same seed and the same first backend)
whose two pools list the same backends in the same order.

## Why it matters
Nothing moves, so the window only costs: every miss is asked twice, and
deletes and in-place changes are sent twice. It is usually a migration left
configured after the upgrade that finished it.

## Example
`cache.migration.fromReplicas: 3` left in the values after `cache.replicas`
went back to 3.

## Fix
Remove the old pool and read the new one directly (drop
`cache.migration.fromReplicas`).
"#,
    fix: "Drop the old placement's pool and its route_failover (cache.migration).",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        let cfg = &c.model;
        for m in migration::find(cfg) {
            if migration::shape(cfg, &m) == Shape::Same {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    m.line,
                    format!(
                        "pools {} (read first) and {} (read on a miss) list the same {} backends: nothing moves, so the migration is over",
                        cfg.pools[m.new].reference(),
                        cfg.pools[m.old].reference(),
                        cfg.pools[m.new].backends.len()
                    ),
                ));
            }
        }
    }
}
