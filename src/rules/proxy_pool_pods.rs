use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::manifest::replicas;

pub const RULE: Rule = Rule {
    id: "proxy-pool-pods",
    severity: Severity::Warning,
    summary: "A pool of StatefulSet pods leaves pods out, or lists them out of ordinal order.",
    docs: r#"## What it checks
When every backend of a pool is a pod of one StatefulSet, the pool lists
ordinals 0, 1, ..., replicas-1 in that order. The two placements of a
resharding window (see `migration-finished`) may cover fewer pods.

## Why it matters
Jump hash maps keys to positions: listing pods in ordinal order keeps keys in
place when the StatefulSet grows (only 1/n of keys move). Out of order, two
proxies rendered differently place keys differently; a pod left out gets no
keys and the others take its share.

## Example
`backends = { "memcached-1.memcached:11211", "memcached-0.memcached:11211" }`.

## Fix
Generate the list from `replicas`, in ordinal order.
"#,
    fix: "List every pod of the StatefulSet, in ordinal order 0..replicas-1.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (c, _, obj) in super::proxies::manifest_configs(ctx) {
        let ns = obj.effective_namespace().to_string();
        let migrations = crate::proxy::migration::find(&c.model);
        for (i, p) in c.model.pools.iter().enumerate() {
            let hosts: Vec<_> = p
                .backends
                .iter()
                .map(|b| ctx.hosts().pod_host(&ns, &b.host))
                .collect();
            if hosts.is_empty() || hosts.iter().any(Option::is_none) {
                continue;
            }
            let hosts: Vec<_> = hosts.into_iter().flatten().collect();
            let sts = hosts[0].statefulset;
            if hosts.iter().any(|h| h.statefulset != sts) {
                continue;
            }
            let ords: Vec<u64> = hosts.iter().map(|h| h.ordinal).collect();
            let mut sorted = ords.clone();
            sorted.sort_unstable();
            let sts_obj = &ctx.objects[sts];
            let line = c.model.find_line(p.line, "backends").or(p.line);
            if ords != sorted {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    line,
                    format!(
                        "pool {} lists StatefulSet {}'s pods in the order {:?}, not by ordinal",
                        p.reference(),
                        sts_obj.name,
                        ords
                    ),
                ));
            }
            // A one-pod pool is a replica of its own (a set of one-pod pools).
            let missing: Vec<u64> = (0..replicas(sts_obj))
                .filter(|o| !ords.contains(o))
                .collect();
            // A resharding window's placements cover different pod counts on
            // purpose (the migration-* rules judge them).
            if !missing.is_empty()
                && ords.len() > 1
                && !crate::proxy::migration::involves(&migrations, i)
            {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    line,
                    format!(
                        "pool {} leaves out pods {:?} of StatefulSet {} ({} replicas): they get no keys",
                        p.reference(),
                        missing,
                        sts_obj.name,
                        replicas(sts_obj)
                    ),
                ));
            }
        }
    }
}
