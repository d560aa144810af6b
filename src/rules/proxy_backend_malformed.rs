use super::{Context, Rule};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "proxy-backend-malformed",
    severity: Severity::Error,
    summary: "A backend is not `host:port`, `host:port label` or a table with a host, or routelib reads it differently than written.",
    docs: r#"## What it checks
Each backend as routelib's `make_backend` reads it: a string must match
`^(.+):(%d+)` (optionally followed by spaces and a label of letters), a table
needs `host`. Also reported: a port outside 1-65535, text after the port that
routelib silently drops (`host:11211x`), and a label routelib cuts short
because the pattern takes letters only (`host:11211 web-1` becomes label `web`).
Those two load, so they are reported as warnings.

## Why it matters
An invalid backend stops the proxy loading; a silently changed one sends
traffic somewhere else than intended, and labels name backends in the proxy's
stats and logs.

## Example
`backends = { "cache-0.cache" }` (no port), `"10.0.0.1:11211 zone-a"`.

## Fix
Write `host:port`, optionally followed by a space and a label of letters, or
use a table `{ host = "...", port = 11211, label = "..." }`.
"#,
    fix: "Write backends as `host:port [label]` (label: letters only) or `{ host = ..., port = ..., label = ... }`.",
    check,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in crate::proxy::configs(ctx) {
        for p in &c.model.pools {
            for b in &p.backends {
                let at = format!("pool {}: backend {}", p.reference(), b.written);
                if let Some(problem) = &b.problem {
                    out.push(c.finding(ctx, &RULE, b.line, format!("{at}: {problem}")));
                    continue;
                }
                match b.port.parse::<u32>() {
                    Ok(n) if (1..=65535).contains(&n) => {}
                    _ => out.push(c.finding(
                        ctx,
                        &RULE,
                        b.line,
                        format!("{at}: port {} is not a TCP port (1-65535)", b.port),
                    )),
                }
                if b.table_form {
                    continue;
                }
                // What routelib read back, compared with what was written.
                let read = if b.label != b.address() {
                    format!("{}:{} {}", b.host, b.port, b.label)
                } else {
                    b.address()
                };
                let written: String = b.written.split_whitespace().collect::<Vec<_>>().join(" ");
                if written != read && !b.written.ends_with("_down_") {
                    let mut f = c.finding(
                        ctx,
                        &RULE,
                        b.line,
                        format!("{at}: routelib reads it as host `{}`, port `{}`, label `{}`; the rest is dropped", b.host, b.port, b.label),
                    );
                    f.severity = Severity::Warning;
                    out.push(f);
                }
            }
        }
    }
}
