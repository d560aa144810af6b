use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::memcached::cmdline::Role;
use crate::proxy::manifest::is_loopback;

pub const RULE: Rule = Rule {
    id: "proxy-localhost-backend",
    severity: Severity::Error,
    summary: "A proxy backend on 127.0.0.1/localhost has no container in the proxy's pod listening there.",
    docs: r#"## What it checks
A backend on the loopback address is served by a container of the proxy's own
pod: a memcached cache container whose `-p` is that port and whose `-l` (if
any) includes the loopback address, or a container declaring that port.

## Why it matters
Loopback is the pod itself. With no local cache container on that port, every
request to the pool fails (and a proxy pointing at its own port loops).

## Example
`"127.0.0.1:11212"` in a pod whose local cache listens on 11211.

## Fix
Point the backend at the local cache container's port, or add the container.
"#,
    fix: "Use the port of a cache container in the same pod, or add one.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (c, f, obj) in super::proxies::manifest_configs(ctx) {
        let memory = ctx.memcached_of(obj);
        let caches: Vec<_> = memory.iter().filter(|m| m.role == Role::Cache).collect();
        let declared: Vec<(String, i64)> = crate::k8s::containers(obj)
            .iter()
            .filter(|k| k.long_running() && k.name != f.container_name)
            .flat_map(|k| {
                k.ports()
                    .into_iter()
                    .map(|(_, p, _)| (k.name.to_string(), p))
                    .collect::<Vec<_>>()
            })
            .collect();
        for p in &c.model.pools {
            for b in p
                .backends
                .iter()
                .filter(|b| b.problem.is_none() && is_loopback(&b.host))
            {
                let Ok(port) = b.port.parse::<i64>() else {
                    continue;
                };
                if f.args.port.value == port {
                    out.push(c.finding(ctx, &RULE, b.line, format!("pool {} backend {}: that is the proxy's own port; it would send requests to itself", p.reference(), b.address())));
                    continue;
                }
                let served = caches.iter().any(|m| {
                    m.args.port.value == port
                        && (m.args.listen.is_empty()
                            || m.args.listen.iter().any(|l| {
                                l.split(',').any(|a| {
                                    is_loopback(a.split(':').next().unwrap_or(a))
                                        || a.starts_with("0.0.0.0")
                                })
                            }))
                }) || (caches.is_empty() && declared.iter().any(|(_, p)| *p == port));
                if !served {
                    let have: Vec<String> = caches
                        .iter()
                        .map(|m| format!("{} on {}", m.container.name, m.args.port.value))
                        .collect();
                    out.push(c.finding(
                        ctx,
                        &RULE,
                        b.line,
                        format!(
                            "pool {} backend {}: no container of {} listens on loopback port {port}{}",
                            p.reference(),
                            b.address(),
                            obj.reference(),
                            if have.is_empty() { String::new() } else { format!(" (local caches: {})", have.join(", ")) }
                        ),
                    ));
                }
            }
        }
    }
}
