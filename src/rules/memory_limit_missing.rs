use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::memcached::quantity::mi_ceil;
use crate::memcached::resources::without_pod_limit;

pub const RULE: Rule = Rule {
    id: "memory-limit-missing",
    severity: Severity::Warning,
    summary: "A memcached container has no memory limit.",
    docs: r#"## What it checks
That every container running memcached (cache, local cache, proxy) sets
`resources.limits.memory`, unless the pod sets a pod-level memory limit.

## Why it matters
Without a limit a burst of connection buffers (pipelined multi-gets to slow
clients are not bounded unless `-o read_buf_mem_limit` is set) can take the
node's memory, and the kernel's OOM killer then picks any process on the node.

## Example
A cache container with `-m 1024` and only `requests.memory: 1200Mi`.

## Fix
Set `limits.memory` to the estimate the message gives.
"#,
    fix: "Set resources.limits.memory (the message gives the estimated peak).",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (obj, cm) in without_pod_limit(ctx.objects_with_memory()) {
        if cm.limit.is_set() {
            continue;
        }
        let hint = cm
            .estimate
            .map(|e| format!("; its estimated peak is {}", mi_ceil(e.recommended_limit())))
            .unwrap_or_default();
        out.push(RULE.on(
            obj,
            &cm.limit.pointer,
            format!("{} has no resources.limits.memory{hint}", cm.describe()),
        ));
    }
}
