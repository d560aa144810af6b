use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::memcached::quantity::mi_ceil;
use crate::memcached::resources::without_pod_limit;

pub const RULE: Rule = Rule {
    id: "memory-request-missing",
    severity: Severity::Warning,
    summary: "A memcached container requests no memory.",
    docs: r#"## What it checks
That every container running memcached has `resources.requests.memory`, or a
memory limit (Kubernetes then requests the limit), or that the pod sets
pod-level memory resources.

## Why it matters
A container with neither request nor limit is scheduled as if it needed no
memory and is the first evicted under node memory pressure; an evicted cache
comes back empty.

## Example
A cache container with `-m 256` and no `resources`.

## Fix
Set `requests.memory` to the steady size the message gives.
"#,
    fix: "Set resources.requests.memory (the message gives the cache's steady size).",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (obj, cm) in without_pod_limit(ctx.objects_with_memory()) {
        if cm.request.is_set() || cm.limit.is_set() {
            continue;
        }
        let hint = cm
            .estimate
            .map(|e| {
                format!(
                    "; it holds {} once its cache is full",
                    mi_ceil(e.recommended_request())
                )
            })
            .unwrap_or_default();
        out.push(RULE.on(
            obj,
            &cm.request.pointer,
            format!(
                "{} has no resources.requests.memory and no limit{hint}",
                cm.describe()
            ),
        ));
    }
}
