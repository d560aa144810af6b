use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::value::Lv;

pub const RULE: Rule = Rule {
    id: "proxy-tls-not-compiled",
    severity: Severity::Error,
    summary: "The config asks for TLS to backends (`backend_use_tls`, `tls = true`), which needs memcached built with --enable-proxy-tls; the official image is not.",
    docs: r#"## What it checks
`settings { backend_use_tls = ... }` (any value), and backends whose options
(their own table, the pool's `backend_options` or the global
`backend_options`) set `tls` to a true value.

## Why it matters
routelib calls `mcp.backend_use_tls()` / `mcp.init_tls()` for those, and a
memcached built without `--enable-proxy-tls` refuses them at load time:
`cannot set mcp.backend_use_tls: TLS support not compiled` or `cannot run
mcp.init_tls: TLS support not compiled`. The official `memcached` image is
built with `--enable-proxy --enable-tls --enable-extstore --enable-sasl` but
not `--enable-proxy-tls` (client TLS is not backend TLS), so the proxy does
not start (measured with memcached 1.6.38 built like it).

## Example
`settings { backend_use_tls = true }`, or
`pools { main = { backend_options = { tls = true }, backends = { ... } } }`.

## Fix
Build the proxy image with `--enable-proxy-tls` (and keep this finding
ignored for it), or drop backend TLS and protect the traffic otherwise
(a NetworkPolicy, a service mesh).
"#,
    fix: "Run an image built with --enable-proxy-tls, or remove backend TLS options.",
    check,
    scope: Scope::Set,
};

const NEEDS: &str = "needs memcached built with --enable-proxy-tls, which the official memcached image is not: the proxy refuses the config (TLS support not compiled)";

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        let m = &c.model;
        if let Some((Lv::Table(s), line)) = &m.settings
            && s.get("backend_use_tls")
                .is_some_and(|v| !matches!(v, Lv::Nil))
        {
            let at = m.find_line(*line, "backend_use_tls").or(*line);
            out.push(c.finding(ctx, &RULE, at, format!("settings backend_use_tls {NEEDS}")));
        }
        for p in &m.pools {
            // One finding per pool: routelib calls mcp.init_tls() for its
            // first backend with tls set and the load stops there.
            if let Some(b) = p
                .backends
                .iter()
                .find(|b| b.problem.is_none() && b.fields.get("tls").is_some_and(Lv::truthy))
            {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    b.line,
                    format!(
                        "pool {}: backend {} has tls = true, which {NEEDS}",
                        p.reference(),
                        b.written
                    ),
                ));
            }
        }
    }
}
