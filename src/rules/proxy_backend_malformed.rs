use super::{Context, Rule, Scope};
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
Those two load, so they are reported as warnings, as are hosts routelib
accepts but nothing can resolve: a host with whitespace, or digits and dots
that are not an IPv4 address (`127.1.0.0.1`); the proxy loads and answers
`SERVER_ERROR backend failure` for every key placed there. A host with
uppercase letters is an info: it resolves (DNS ignores case), but no
Kubernetes name has them. A string backend needs its port
(`"127.0.0.1"` is refused by routelib 1.6.38 although the proxy
documentation calls the port optional); a table backend without `port`
gets 11211.

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
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
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
                if let Some((severity, why)) = host_problem(&b.host) {
                    let mut f = c.finding(
                        ctx,
                        &RULE,
                        b.line,
                        format!("{at}: host `{}` {why}", b.host.escape_debug()),
                    );
                    f.severity = severity;
                    out.push(f);
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

/// What is wrong with a backend host that routelib accepts (the proxy loads
/// the config and only fails, or misleads, when it connects).
fn host_problem(host: &str) -> Option<(Severity, String)> {
    const FAILS: &str = "so the proxy loads the config but answers SERVER_ERROR backend failure to every key placed here (measured with the real 1.6.38 proxy)";
    if host.chars().any(char::is_whitespace) {
        return Some((
            Severity::Warning,
            format!("contains whitespace: it is neither an address nor a DNS name, {FAILS}"),
        ));
    }
    if !host.is_empty()
        && host.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && !is_inet_aton_address(host)
    {
        return Some((
            Severity::Warning,
            format!(
                "is not an IPv4 address (at most 4 numbers, each part in range) and, being all digits and dots, cannot be a DNS name either, {FAILS}"
            ),
        ));
    }
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        return Some((
            Severity::Info,
            "has uppercase letters: DNS ignores case, so it resolves like the lowercase name (the real proxy reached `LOCALHOST`), but Kubernetes Service and pod names are lowercase, and the proxy's stats and logs name the backend as written".into(),
        ));
    }
    None
}

/// Digits and dots the way the resolver reads an IPv4 address: 1 to 4 decimal
/// numbers, the last filling the bytes left (`127.1` is 127.0.0.1).
fn is_inet_aton_address(host: &str) -> bool {
    let parts: Vec<&str> = host.split('.').collect();
    if parts.len() > 4 || parts.iter().any(|p| p.is_empty() || p.len() > 10) {
        return false;
    }
    let Ok(nums) = parts
        .iter()
        .map(|p| p.parse::<u64>())
        .collect::<Result<Vec<u64>, _>>()
    else {
        return false;
    };
    let (last, first) = nums.split_last().unwrap_or((&0, &[]));
    let last_bits = 8 * (5 - nums.len() as u32);
    first.iter().all(|&n| n <= 255) && *last < (1u64 << last_bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_that_cannot_be_reached_are_named() {
        assert!(host_problem("127.0.0.1").is_none());
        assert!(host_problem("127.1").is_none());
        assert!(host_problem("cache-0.cache.default.svc").is_none());
        assert!(host_problem("127.1.0.0.1").is_some_and(|(s, _)| s == Severity::Warning));
        assert!(host_problem("300.1.1.1").is_some());
        assert!(host_problem("10..1.1").is_some());
        assert!(host_problem("my host").is_some_and(|(s, _)| s == Severity::Warning));
        assert!(host_problem("Cache-0.cache").is_some_and(|(s, _)| s == Severity::Info));
    }
}
