use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::k8s;
use crate::memcached::quantity::{bytes_of, mi_ceil, mib};
use crate::memcached::resources::pod_limit;

pub const RULE: Rule = Rule {
    id: "memory-pod-limit-below-peak",
    severity: Severity::Error,
    summary: "A pod-level memory limit is below what its memcached containers can use together.",
    docs: r#"## What it checks
Pods using pod-level resources (`spec.resources.limits.memory`): the limit is
shared by every container, so it must hold the estimated peak of each
memcached container (cache, local cache, proxy) plus the other long-running
containers' own limits (or requests).

## Why it matters
A local cache sidecar and a proxy in the application's pod share one memory
budget; their peaks add up. Past the pod limit the kernel kills a process in
the pod, often the cache.

## Example
A pod-level `limits.memory: 128Mi` around a `-m 64` local cache (about
130 MiB at peak) and a proxy.

## Fix
Raise the pod-level limit to the sum the message gives, or shrink `-m`/`-c`.
"#,
    fix: "Raise the pod-level memory limit to the sum the message gives, or shrink -m / -c.",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (obj, mcs) in ctx.objects_with_memory() {
        let Some(pod) = pod_limit(obj) else { continue };
        let Some(limit) = pod.value() else { continue };
        if mcs.is_empty() || mcs.iter().any(|c| c.estimate.is_none()) {
            continue;
        }
        let mut parts = Vec::new();
        let mut total = 0u64;
        for cm in mcs {
            let peak = cm.estimate.map(|e| e.total_peak).unwrap_or(0);
            total += peak;
            parts.push(format!(
                "{} `{}` up to {}",
                cm.label,
                cm.mc.container.name,
                mib(peak)
            ));
        }
        let memcached: Vec<(&str, usize)> = mcs
            .iter()
            .map(|c| (c.mc.container.field, c.mc.container.index))
            .collect();
        for c in k8s::containers(obj) {
            if !c.long_running() || memcached.contains(&(c.field, c.index)) {
                continue;
            }
            let own = c
                .json
                .pointer("/resources/limits/memory")
                .or_else(|| c.json.pointer("/resources/requests/memory"))
                .and_then(|v| bytes_of(v).ok());
            match own {
                Some(b) => {
                    total += b;
                    parts.push(format!("`{}` {}", c.name, mib(b)));
                }
                None => parts.push(format!("`{}` (no memory set, counted as 0)", c.name)),
            }
        }
        if total > limit {
            out.push(RULE.on(
                obj,
                &pod.pointer,
                format!(
                    "the pod-level limits.memory {} ({}) is shared by {}: {} together. Set it to at least {}",
                    pod.raw.as_deref().unwrap_or(""),
                    mib(limit),
                    parts.join(", "),
                    mib(total),
                    mi_ceil(total)
                ),
            ));
        }
    }
}
