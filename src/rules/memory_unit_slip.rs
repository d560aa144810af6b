use super::{Context, Rule};
use crate::finding::{Finding, Severity};
use crate::memcached::Role;
use crate::memcached::quantity::{mi_ceil, mib};
use crate::memcached::resources::{ContainerMemory, MemoryField, analyze};

pub const RULE: Rule = Rule {
    id: "memory-unit-slip",
    severity: Severity::Error,
    summary: "memcached's -m (MiB) and the container's memory quantity disagree on units.",
    docs: r#"## What it checks
Two unit mistakes around memcached's `-m`:

- a memory request or limit below `-m` itself, typically `-m 256` with
  `256M`: memcached counts `-m` in MiB (1,048,576 bytes), Kubernetes reads `M`
  as megabytes (1,000,000 bytes), so `256M` is only 244 MiB;
- a unit on `-m`: memcached reads the number with C `atoi`, so `-m 1g` is
  1 MiB and `-m 512k` is 512 MiB.

## Why it matters
A limit below `-m` is certain to be hit once the cache fills: the container
is OOM-killed and restarts empty, over and over. A unit on `-m` silently
gives a cache of the wrong size.

## Example
`args: ["-m", "256"]` with `limits: {memory: 256M}`, or `-m 2g`.

## Fix
Use binary quantities (`Mi`, `Gi`) sized from the estimate, and pass `-m` as
a plain number of MiB.
"#,
    fix: "Write -m as a plain number of MiB and size the memory with Mi/Gi from the estimate.",
    check,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for obj in &ctx.objects {
        for cm in analyze(obj) {
            if cm.mc.role != Role::Cache || !cm.mc.args.memory_mib.known {
                continue;
            }
            flag_unit_on_m(obj, &cm, out);
            let m = cm.mc.args.memory_mib.value;
            for (field, what) in [
                (&cm.limit, "limits.memory"),
                (&cm.request, "requests.memory"),
            ] {
                below_m(obj, &cm, field, what, m, out);
            }
        }
    }
}

fn flag_unit_on_m(obj: &crate::manifest::Object, cm: &ContainerMemory, out: &mut Vec<Finding>) {
    let Some(opt) = cm.mc.args.last('m') else {
        return;
    };
    let raw = opt.value.as_deref().unwrap_or("").trim();
    let digits = raw.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits == raw.len() {
        return;
    }
    let n = &raw[..digits];
    let suffix = &raw[digits..];
    let meant = match suffix.chars().next() {
        Some('g' | 'G') => format!(
            "{n} GiB; write `-m {}`",
            n.parse::<u64>().unwrap_or(0) * 1024
        ),
        Some('t' | 'T') => format!(
            "{n} TiB; write `-m {}`",
            n.parse::<u64>().unwrap_or(0) * 1024 * 1024
        ),
        Some('k' | 'K') => format!("{n} KiB, which memcached cannot use as a cache size"),
        // 256m, 256M, 256Mi, 256MB: the number is already MiB.
        _ => return,
    };
    out.push(RULE.on(
        obj,
        &opt.from.pointer(&cm.mc.container.pointer),
        format!(
            "`{} {raw}` on {}: memcached reads -m with atoi as {n} MiB, not {meant}",
            opt.spelled,
            cm.describe()
        ),
    ));
}

fn below_m(
    obj: &crate::manifest::Object,
    cm: &ContainerMemory,
    field: &MemoryField,
    what: &str,
    m: u64,
    out: &mut Vec<Finding>,
) {
    let Some(bytes) = field.value() else { return };
    let cache = m << 20;
    if bytes >= cache {
        return;
    }
    let raw = field.raw.as_deref().unwrap_or("");
    let units = if field.is_decimal() {
        format!(
            " `{raw}` uses decimal units (k = 1,000, M = 1,000,000, G = 1,000,000,000 bytes) while -m counts MiB (1,048,576 bytes): {m}M is {} but -m {m} is {}.",
            mib(m * 1_000_000),
            mib(cache)
        )
    } else {
        String::new()
    };
    let target = cm.estimate.map(|e| {
        if what.starts_with("limits") {
            e.recommended_limit()
        } else {
            e.recommended_request()
        }
    });
    let fix = target
        .map(|t| format!(" Set {what} to at least {}.", mi_ceil(t)))
        .unwrap_or_default();
    out.push(RULE.on(
        obj,
        &field.pointer,
        format!(
            "{what} `{raw}` ({}) is below the cache size of {} (-m {m}, in MiB), before any overhead.{units}{fix}",
            mib(bytes),
            cm.describe()
        ),
    ));
}
