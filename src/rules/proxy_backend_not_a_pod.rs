use crate::json::Value;

use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::memcached::cmdline::Role;
use crate::proxy::manifest::{is_loopback, replicas};

pub const RULE: Rule = Rule {
    id: "proxy-backend-not-a-pod",
    severity: Severity::Error,
    summary: "A proxy backend is not a real cache pod: wrong service, ordinal beyond replicas, a load-balanced Service, or the wrong port.",
    docs: r#"## What it checks
For proxies found in the manifests, each backend that names something in the
cluster must be one StatefulSet pod, `<sts>-<ordinal>.<service>.<ns>.svc.<domain>:<port>`:
the StatefulSet exists, the ordinal is below `replicas`, the service is the
StatefulSet's `serviceName`, exists, is headless and selects the pods, and the
port is the one memcached listens on (`-p`) and a declared containerPort.
A backend that names a ClusterIP Service is reported too. A `.svc` name in a
namespace the rendering does not contain, or whose StatefulSet and Service
are both absent from it, may be a cache deployed elsewhere: that is
`proxy-backend-external` (info), not this rule.

## Why it matters
A pod name beyond replicas never resolves (the proxy marks it down and its
share of keys fails); a non-headless service gives no per-pod DNS names; a
ClusterIP Service load-balances each connection to a random pod, so keys are
not where the next request looks.

## Example
`memcached-3.memcached.cache.svc.cluster.local:11211` with `replicas: 3`.

## Fix
Generate the pool from the StatefulSet: ordinals 0..replicas-1, its
serviceName, a headless Service, and memcached's port.
"#,
    fix: "List each StatefulSet pod by its stable DNS name (headless serviceName) and memcached's port.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (c, _, obj) in super::proxies::manifest_configs(ctx) {
        let ns = obj.effective_namespace().to_string();
        for p in &c.model.pools {
            for b in p.backends.iter().filter(|b| b.problem.is_none()) {
                let at = format!("pool {} backend {}", p.reference(), b.address());
                let mut bad =
                    |m: String| out.push(c.finding(ctx, &RULE, b.line, format!("{at}: {m}")));
                if is_loopback(&b.host) || b.host.parse::<std::net::IpAddr>().is_ok() {
                    continue;
                }
                if let Some(ph) = ctx.hosts().pod_host(&ns, &b.host) {
                    let sts = &ctx.objects[ph.statefulset];
                    let n = replicas(sts);
                    if ph.ordinal >= n {
                        bad(format!(
                            "pod ordinal {} does not exist: StatefulSet {} has {n} replicas",
                            ph.ordinal, sts.name
                        ));
                    }
                    let svc_name = sts
                        .json
                        .pointer("/spec/serviceName")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    match &ph.service {
                        None => bad(format!(
                            "`{}` has no service part; pod names resolve as <pod>.{svc_name}",
                            b.host
                        )),
                        Some(s) if s != svc_name => bad(format!(
                            "StatefulSet {}'s pods are named under its serviceName `{svc_name}`, not `{s}`",
                            sts.name
                        )),
                        Some(s) => match ctx
                            .hosts()
                            .service(&ph.namespace, s)
                            .map(|i| &ctx.objects[i])
                        {
                            None => bad(format!(
                                "Service {}/{s} (the StatefulSet's serviceName) is not in the manifests, so the pod name does not resolve",
                                ph.namespace
                            )),
                            Some(svc) => {
                                if svc.json.pointer("/spec/clusterIP").and_then(Value::as_str)
                                    != Some("None")
                                {
                                    bad(format!(
                                        "Service {s} is not headless (clusterIP: None), so it publishes no per-pod DNS names"
                                    ));
                                }
                                let selector = svc
                                    .json
                                    .pointer("/spec/selector")
                                    .and_then(Value::as_object);
                                let labels = sts
                                    .json
                                    .pointer("/spec/template/metadata/labels")
                                    .and_then(Value::as_object);
                                if !selector.is_some_and(|sel| crate::k8s::selects(sel, labels)) {
                                    bad(format!(
                                        "Service {s} does not select StatefulSet {}'s pods",
                                        sts.name
                                    ));
                                }
                            }
                        },
                    }
                    let memory = ctx.memcached_of(sts);
                    let caches: Vec<_> = memory.iter().filter(|m| m.role == Role::Cache).collect();
                    if let Ok(port) = b.port.parse::<i64>()
                        && !caches.is_empty()
                        && !caches.iter().any(|m| m.args.port.value == port)
                    {
                        let ports: Vec<String> = caches
                            .iter()
                            .map(|m| m.args.port.value.to_string())
                            .collect();
                        bad(format!(
                            "memcached in StatefulSet {} listens on {}, not {port}",
                            sts.name,
                            ports.join(", ")
                        ));
                    } else if let Ok(port) = b.port.parse::<i64>()
                        && !caches.is_empty()
                        && !caches
                            .iter()
                            .any(|m| m.container.ports().iter().any(|(_, p, _)| *p == port))
                    {
                        bad(format!(
                            "no container of StatefulSet {} declares containerPort {port}",
                            sts.name
                        ));
                    }
                } else if let Some(si) = ctx.hosts().service_host(&ns, &b.host) {
                    let svc = &ctx.objects[si];
                    if svc.json.pointer("/spec/clusterIP").and_then(Value::as_str) != Some("None") {
                        bad(format!(
                            "Service {} load-balances each connection to a random pod, so keys do not stay on one server; list the pods",
                            svc.name
                        ));
                    } else {
                        bad(format!(
                            "headless Service {} resolves to every pod at once; list the pods one by one",
                            svc.name
                        ));
                    }
                } else if b.host.contains(".svc") && ctx.hosts().external_host(&b.host).is_none() {
                    // (An external one is proxy-backend-external's.)
                    bad(format!(
                        "`{}` names no StatefulSet pod or Service in the manifests",
                        b.host
                    ));
                }
            }
        }
    }
}
