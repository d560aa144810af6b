use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::memcached::Role;

pub const RULE: Rule = Rule {
    id: "memory-cache-size-default",
    severity: Severity::Info,
    summary: "A memcached cache does not set -m and uses the default 64 MiB.",
    docs: r#"## What it checks
That a memcached cache container (not a proxy) passes `-m` /
`--memory-limit`.

## Why it matters
Without it memcached stores at most 64 MiB of items whatever the container's
memory limit is: a pod given 4Gi evicts after 64 MiB.

## Example
`args: ["-c", "4096"]` on the `memcached:1.6.38` image.

## Fix
Pass `-m` with the cache size in MiB, and size the memory limit from it.
"#,
    fix: "Pass -m with the cache size in MiB (memcached's default is 64).",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (obj, list) in ctx.objects_with_memory() {
        for cm in list {
            if cm.mc.role != Role::Cache || cm.mc.args.memory_mib.is_set() {
                continue;
            }
            let limit = cm
                .limit
                .raw
                .as_deref()
                .map(|l| format!(" whatever its limit ({l})"))
                .unwrap_or_default();
            out.push(RULE.on(
                obj,
                &cm.mc.default_pointer(),
                format!(
                    "{} does not pass -m: memcached stores at most 64 MiB of items{limit}",
                    cm.describe()
                ),
            ));
        }
    }
}
