use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::manifest::is_loopback;

pub const RULE: Rule = Rule {
    id: "proxy-backend-external",
    severity: Severity::Info,
    summary: "A proxy backend names a cluster DNS name outside the rendering (a cache deployed elsewhere?).",
    docs: r#"## What it checks
For proxies found in the manifests, each backend with a cluster DNS name
(`<sts>-<ordinal>.<service>.<ns>.svc.<domain>` or `<service>.<ns>.svc.<domain>`)
that resolves to nothing in the manifests, where the rendering does not hold
what the name points at: the namespace has no object in the rendering, or
neither the StatefulSet nor the Service the name mentions is rendered there.

This is information, not an error: the cache may be another release, in
another namespace (the chart's `externalCache` values), so mclint cannot check
its replicas, headless Service or port. When the StatefulSet or Service *is*
rendered and the name is still wrong (ordinal beyond replicas, other service,
wrong port), `proxy-backend-not-a-pod` reports an error instead.

## Why it matters
A name that does not resolve in the cluster leaves its share of the keys
failing; mclint can only check names whose targets it sees.

## Example
A proxy rendered with `cache.enabled=false` and
`externalCache.namespace=cache`, whose pool lists
`memcached-0.memcached.cache.svc.cluster.local:11211`.

## Fix
Make sure the cache exists as named: StatefulSet pods `<sts>-0..replicas-1`
under a headless Service that is the StatefulSet's `serviceName`, in that
namespace, listening on that port. Render both together (or check them
together: `mclint check proxy.yaml cache.yaml`) to let mclint verify it.
"#,
    fix: "Make sure the StatefulSet, its headless Service and the port exist in that namespace, or check the cache's manifests together with the proxy's.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (c, _, obj) in super::proxies::manifest_configs(ctx) {
        let ns = obj.effective_namespace();
        for p in &c.model.pools {
            for b in p.backends.iter().filter(|b| b.problem.is_none()) {
                if is_loopback(&b.host)
                    || b.host.parse::<std::net::IpAddr>().is_ok()
                    || ctx.hosts().pod_host(ns, &b.host).is_some()
                    || ctx.hosts().service_host(ns, &b.host).is_some()
                {
                    continue;
                }
                let Some(e) = ctx.hosts().external_host(&b.host) else {
                    continue;
                };
                let target = match (&e.statefulset, e.ordinal) {
                    (Some(sts), Some(n)) => format!(
                        "pod {n} of StatefulSet {}/{sts} under Service `{}`",
                        e.namespace, e.service
                    ),
                    _ => format!("Service {}/{}", e.namespace, e.service),
                };
                let why = if e.namespace_rendered {
                    format!(
                        "neither that StatefulSet nor that Service is in the rendering of namespace `{}`",
                        e.namespace
                    )
                } else {
                    format!("the rendering has nothing in namespace `{}`", e.namespace)
                };
                let mut msg = format!(
                    "pool {} backend {}: names {target}, which may be a cache outside this rendering ({why}); mclint cannot check that it exists, has that pod and listens on {}",
                    p.reference(),
                    b.address(),
                    b.port
                );
                if e.statefulset.is_none() {
                    msg.push_str(
                        "; the proxy needs one name per cache pod, and a Service name reaches all of its pods",
                    );
                }
                out.push(c.finding(ctx, &RULE, b.line, msg));
            }
        }
    }
}
