use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::memcached::memory::{BURST_PER_CONNECTION, CONNECTION_IDLE, burst_connections};
use crate::memcached::quantity::mib;
use crate::memcached::resources::estimated_with_limit;

pub const RULE: Rule = Rule {
    id: "memory-connection-buffers-unbounded",
    severity: Severity::Warning,
    summary: "memcached's connection buffers are unbounded and -c connections can exceed the memory headroom.",
    docs: r#"## What it checks
For a memcached container (cache or proxy) without `-o read_buf_mem_limit`:
whether `-c` connections, each pipelining multi-gets to a client that reads
slowly, can take more memory than the container's limit leaves above the
process's steady use. memcached 1.6.38 measured 1.6 to 1.7 MiB per
connection for a 16 KiB read buffer full of 100-key multi-gets (response
objects pile up until the client reads); the rule counts 1.8 MiB.

## Why it matters
These buffers are only bounded by `-o read_buf_mem_limit` (MiB, shared by the
worker threads). Without it, a batch job or a slow network path can push a
healthy cache over its limit: OOM-kill, empty cache.

## Example
`-m 256 -c 1024` with `limits.memory: 400Mi`: 1024 x 1.8 MiB is far beyond
the 60 MiB of headroom.

## Fix
Set `-o read_buf_mem_limit=<MiB>` to the bound the message gives (new
buffers beyond it get `SERVER_ERROR out of memory` instead of growing the
process), or lower `-c`.
"#,
    fix: "Add -o read_buf_mem_limit=<MiB> with the bound the message gives, or lower -c.",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (obj, cm, e, limit) in estimated_with_limit(ctx.objects_with_memory()) {
        let a = &cm.mc.args;
        if a.read_buf_mem_limit.value.is_some() {
            continue;
        }
        let steady = e.total_peak - e.connections;
        let burst = burst_connections(a);
        if steady + burst <= limit {
            continue;
        }
        let c = a.conn_limit.value;
        let headroom = limit.saturating_sub(steady + c * CONNECTION_IDLE);
        let bound = headroom >> 20;
        let advice = if bound >= 1 {
            format!(
                "set -o read_buf_mem_limit={bound} (MiB) to keep them within the limit, or lower -c"
            )
        } else {
            "the limit leaves no room for them: raise limits.memory, then set -o read_buf_mem_limit"
                .to_string()
        };
        out.push(RULE.on(
            obj,
            &cm.mc.pointer(a.conn_limit.from),
            format!(
                "{}: {c} connections pipelining multi-gets to slow readers can hold about {} each ({} in all) and nothing bounds them; limits.memory {} leaves {} above the steady {}: {advice}",
                cm.describe(),
                mib(BURST_PER_CONNECTION),
                mib(burst),
                cm.limit.raw.as_deref().unwrap_or(""),
                mib(headroom),
                mib(steady)
            ),
        ));
    }
}
