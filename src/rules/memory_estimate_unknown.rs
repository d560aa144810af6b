use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "memory-estimate-unknown",
    severity: Severity::Warning,
    summary: "memcached's memory cannot be estimated: an argument is unknown or invalid.",
    docs: r#"## What it checks
The memcached command line of each memcached container, read as memcached
1.6.38 reads it. The rule fires when a value that shapes memory (`-m`, `-c`,
`-t`, `-I`, `-o hashpower`, `slab_chunk_max`, `read_buf_mem_limit`) comes from
a variable the manifest does not give (`valueFrom`, `envFrom`, or not
defined, in which case the process receives the literal `$(VAR)`), or when
memcached would refuse the command line (an unknown option or `-o` name, a
missing argument, an out-of-range value).

## Why it matters
The memory rules cannot check a container whose configuration is unknown,
and a command line memcached rejects is a crash loop.

## Example
`args: ["-m", "$(CACHE_MB)"]` with `CACHE_MB` from a ConfigMap, or
`-o hashpwr=20`.

## Fix
Write the value in the manifest, or fix the argument the message names.
"#,
    fix: "Write memory-relevant memcached arguments literally in the manifest, and fix arguments memcached rejects.",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (obj, list) in ctx.objects_with_memory() {
        for cm in list {
            if cm.estimate.is_some() {
                continue;
            }
            let problems: Vec<_> = cm
                .mc
                .args
                .problems
                .iter()
                .filter(|p| p.fatal || p.message.contains("variable"))
                .collect();
            let Some(first) = problems.first() else {
                // Unknown without a recorded reason: a shell variable.
                out.push(RULE.on(
                    obj,
                    &cm.mc.default_pointer(),
                    format!(
                        "{}: a memory-relevant argument is not known from the manifest",
                        cm.describe()
                    ),
                ));
                continue;
            };
            let all: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
            out.push(RULE.on(
                obj,
                &cm.mc.pointer(first.from),
                format!(
                    "cannot estimate the memory of {}: {}",
                    cm.describe(),
                    all.join("; ")
                ),
            ));
        }
    }
}
