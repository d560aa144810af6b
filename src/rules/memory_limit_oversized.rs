use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::memcached::Role;
use crate::memcached::quantity::{mi_ceil, mib};
use crate::memcached::resources::estimated_with_limit;

pub const RULE: Rule = Rule {
    id: "memory-limit-oversized",
    severity: Severity::Info,
    summary: "A memcached container's memory limit is more than twice what memcached can use.",
    docs: r#"## What it checks
That `resources.limits.memory` of a memcached container is at most twice the
estimated peak (see `memory-limit-below-peak` for what the estimate counts).

## Why it matters
memcached cannot use the rest: `-m` caps the cache. A limit far above it
usually means `-m` was meant to be larger (the cache evicts while memory sits
unused), or a copy-paste from another workload.

## Example
`-m 64` (about 130 MiB at peak) with `limits.memory: 1Gi`.

## Fix
Raise `-m` to use the memory, or lower the limit to the estimate.
"#,
    fix: "Raise -m to use the memory, or lower limits.memory to the estimate.",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (obj, cm, e, limit) in estimated_with_limit(ctx.objects_with_memory()) {
        if limit > 2 * e.total_peak {
            out.push(RULE.on(
                obj,
                &cm.limit.pointer,
                format!(
                    "{} can use at most {} ({}); limits.memory is {} ({}), more than twice that. {} {}",
                    cm.describe(),
                    mib(e.total_peak),
                    e.breakdown(),
                    cm.limit.raw.as_deref().unwrap_or(""),
                    mib(limit),
                    if cm.mc.role == Role::Proxy {
                        "Lower the limit to"
                    } else {
                        "Raise -m to use it, or lower the limit to"
                    },
                    mi_ceil(e.recommended_limit())
                ),
            ));
        }
    }
}
