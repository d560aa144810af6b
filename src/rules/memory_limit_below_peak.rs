use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::memcached::quantity::{mi_ceil, mib};
use crate::memcached::resources::estimated_with_limit;

pub const RULE: Rule = Rule {
    id: "memory-limit-below-peak",
    severity: Severity::Error,
    summary: "A memcached container's memory limit is below what memcached can use.",
    docs: r#"## What it checks
For every container that runs memcached (cache, local cache sidecar or proxy),
the estimate of its peak memory from its command line: `-m` plus the first
slab page every other slab class takes, the hash table grown for the most
items `-m` can hold, `-c` connections each holding a 16 KiB read buffer (or
`-o read_buf_mem_limit`), `-t` worker threads and the process baseline. The
constants come from measurements of memcached 1.6.38 (`docs/memory-model.md`).
The rule fires when `resources.limits.memory` is below that peak, whatever
the reason: it does not defer to `memory-unit-slip` (a `256M` limit on
`-m 256` gets both findings, and ignoring one leaves the other).

## Why it matters
memcached never gives memory back: once the cache is full it stays at its
peak. A limit below it gets the container OOM-killed, which empties the
cache, and the cycle repeats under load.

## Example
`-m 256` with `limits.memory: 280Mi`: the cache alone reaches 256 MiB plus
38 slab-class pages, and the hash table for 2.8 million small items is 32 MiB.

## Fix
Raise the limit to the estimate the message gives, or lower `-m`, `-c` or
set `-o read_buf_mem_limit`.
"#,
    fix: "Set limits.memory to at least the estimated peak, or lower -m / -c.",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (obj, cm, e, limit) in estimated_with_limit(ctx.objects_with_memory()) {
        if limit < e.total_peak {
            out.push(RULE.on(
                obj,
                &cm.limit.pointer,
                format!(
                    "{} can use {} ({}); limits.memory is {} ({}). Set limits.memory to at least {}",
                    cm.describe(),
                    mib(e.total_peak),
                    e.breakdown(),
                    cm.limit.raw.as_deref().unwrap_or(""),
                    mib(limit),
                    mi_ceil(e.recommended_limit())
                ),
            ));
        }
    }
}
