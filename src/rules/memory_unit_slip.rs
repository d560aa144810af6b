use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::memcached::Role;
use crate::memcached::quantity::{mi_ceil, mib};
use crate::memcached::resources::{ContainerMemory, MemoryField};

pub const RULE: Rule = Rule {
    id: "memory-unit-slip",
    severity: Severity::Error,
    summary: "memcached's -m (MiB) and the container's memory quantity disagree on units.",
    docs: r#"## What it checks
Unit mistakes around memcached's `-m`, on cache containers (not proxies). The
rule fires only on evidence that units were confused, never on a size that
is merely too small (that is `memory-limit-below-peak` and
`memory-request-below-cache`, which fire on their own whatever this rule
says). The evidence is one of:

- **A unit on `-m`** in `g`/`G`, `t`/`T` or `k`/`K` (`-m 2g`, `-m 512k`):
  memcached reads `-m` with C `atoi`, which stops at the first non-digit, so
  `-m 2g` is 2 MiB and `-m 512k` is 512 MiB. (`-m 256m` and `-m 256MB` are
  read as 256 MiB, which is what they say: no finding.)
- **A decimal quantity that only the binary reading makes fit**:
  `requests.memory` or `limits.memory` is written with a decimal suffix (`k`,
  `M`, `G`, `T`, `P`, `E`), is below `-m` MiB, and the same number with the
  binary suffix (`k` as `Ki`, `M` as `Mi`, `G` as `Gi`, ...) is at least `-m`
  MiB. Typical: `-m 256` with `256M`, which Kubernetes reads as 256,000,000
  bytes (244.1 MiB) while `-m 256` is 268,435,456 bytes.
- **A plain number that only makes sense as MiB**: the quantity has no unit
  (Kubernetes reads bytes), is below 1 MiB (no memcached process fits in it),
  and read as MiB it is at least `-m`. Typical: `limits.memory: 1024` next
  to `-m 1024`.

A quantity below `-m` without such evidence (`512Mi` with `-m 1024`, or
`200M` with `-m 1024`) is not a unit slip: only the size rules report it.

## Why it matters
A limit below `-m` is certain to be hit once the cache fills: the container
is OOM-killed and restarts empty, over and over. A unit on `-m` silently
gives a cache of the wrong size.

## Example
`args: ["-m", "256"]` with `limits: {memory: 256M}`, or `-m 2g`.

## Fix
The finding's help says what to write: `-m` as a plain number of MiB, or the
quantity with a binary suffix (`Mi`, `Gi`) sized from the estimate.
"#,
    fix: "Write -m as a plain number of MiB, and memory quantities with Mi/Gi sized from the estimate.",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (obj, list) in ctx.objects_with_memory() {
        for cm in list {
            if cm.mc.role != Role::Cache || !cm.mc.args.memory_mib.known {
                continue;
            }
            flag_unit_on_m(obj, cm, out);
            let m = cm.mc.args.memory_mib.value;
            for (field, what) in [
                (&cm.limit, "limits.memory"),
                (&cm.request, "requests.memory"),
            ] {
                quantity_slip(obj, cm, field, what, m, out);
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
    let count = n.parse::<u64>().unwrap_or(0);
    let (meant, help) = match raw[digits..].chars().next() {
        Some('g' | 'G') => (
            format!("{n} GiB; write `-m {}`", count.saturating_mul(1024)),
            format!(
                "Write -m as a plain number of MiB: `-m {}` for {n} GiB.",
                count.saturating_mul(1024)
            ),
        ),
        Some('t' | 'T') => (
            format!("{n} TiB; write `-m {}`", count.saturating_mul(1024 * 1024)),
            format!(
                "Write -m as a plain number of MiB: `-m {}` for {n} TiB.",
                count.saturating_mul(1024 * 1024)
            ),
        ),
        Some('k' | 'K') => (
            format!("{n} KiB, which memcached cannot use as a cache size"),
            "Write -m as a plain number of MiB (memcached cannot size its cache in KiB)."
                .to_string(),
        ),
        // 256m, 256M, 256Mi, 256MB: the number is already MiB.
        _ => return,
    };
    out.push(
        RULE.on(
            obj,
            &opt.from.pointer(&cm.mc.container.pointer()),
            format!(
                "`{} {raw}` on {}: memcached reads -m with atoi as {n} MiB, not {meant}",
                opt.spelled,
                cm.describe()
            ),
        )
        .with_help(help),
    );
}

/// A request or limit below `-m` that the binary reading of its number would
/// make fit: the number was meant in MiB.
fn quantity_slip(
    obj: &crate::manifest::Object,
    cm: &ContainerMemory,
    field: &MemoryField,
    what: &str,
    m: u64,
    out: &mut Vec<Finding>,
) {
    let Some(bytes) = field.value() else { return };
    let cache = m << 20;
    if m == 0 || bytes >= cache {
        return;
    }
    let Some((meant_bytes, meant)) = field.binary_reading() else {
        return;
    };
    if meant_bytes < cache {
        return;
    }
    let raw = field.raw.as_deref().unwrap_or("");
    let target = cm.estimate.map(|e| {
        if what.starts_with("limits") {
            (e.recommended_limit(), "the estimated peak")
        } else {
            (e.recommended_request(), "what it holds once full")
        }
    });
    let size = match target {
        Some((t, why)) => format!("at least {} ({why})", mi_ceil(t)),
        None => format!("more than `{meant}`"),
    };
    let (reading, help) = if raw.ends_with(|c: char| c.is_ascii_alphabetic()) {
        (
            format!(
                "Kubernetes reads `{raw}` in decimal units (k = 1,000, M = 1,000,000, G = 1,000,000,000 bytes) as {}, while -m {m} counts MiB (1,048,576 bytes) and is {}; `{meant}` is what the number means in MiB",
                mib(bytes),
                mib(cache)
            ),
            format!("Write {what} with a binary suffix (Mi, Gi), {size}; `{raw}` is decimal."),
        )
    } else {
        (
            format!(
                "`{raw}` has no unit, so Kubernetes reads {raw} bytes, while -m {m} counts MiB; as MiB (`{meant}`) the number would hold the cache"
            ),
            format!("Give {what} a unit, {size}; a quantity without one is bytes."),
        )
    };
    out.push(
        RULE.on(
            obj,
            &field.pointer,
            format!(
                "{what} `{raw}` ({}) is below the {} cache of {}: {reading}",
                mib(bytes),
                mib(cache),
                cm.describe()
            ),
        )
        .with_help(help),
    );
}
