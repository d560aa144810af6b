use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::memcached::quantity::{mi_ceil, mib};

pub const RULE: Rule = Rule {
    id: "memory-request-below-cache",
    severity: Severity::Warning,
    summary: "A memcached container requests less memory than its cache plus fixed overhead.",
    docs: r#"## What it checks
That `resources.requests.memory` of a memcached container covers what the
process holds once the cache is full: `-m`, the hash table for the items it
can hold, the worker threads and the process baseline (for a proxy: the
baseline and its threads). It fires on any request below that, including
one below `-m` itself, whether or not `memory-unit-slip` also fires.

## Why it matters
The scheduler places pods by their requests. A request below the cache's
steady size lets a node be overcommitted; under memory pressure the kubelet
evicts pods using more than they requested first, and an evicted cache
starts empty.

## Example
`-m 256` with `requests.memory: 200Mi`.

## Fix
Request at least the amount the message gives.
"#,
    fix: "Set requests.memory to at least -m plus the fixed overhead the message gives.",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (obj, list) in ctx.objects_with_memory() {
        for cm in list {
            let (Some(e), Some(request)) = (cm.estimate, cm.request.value()) else {
                continue;
            };
            let needed = e.recommended_request();
            if request < needed {
                out.push(RULE.on(
                    obj,
                    &cm.request.pointer,
                    format!(
                        "{} holds {} once its cache is full (cache, hash table, threads and baseline); requests.memory is {} ({}). Request at least {}",
                        cm.describe(),
                        mib(needed),
                        cm.request.raw.as_deref().unwrap_or(""),
                        mib(request),
                        mi_ceil(needed)
                    ),
                ));
            }
        }
    }
}
