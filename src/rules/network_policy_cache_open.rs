use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::memcached::cmdline::Role;
use crate::netpol::{self, Openness};

pub const RULE: Rule = Rule {
    id: "network-policy-cache-open",
    severity: Severity::Warning,
    summary: "NetworkPolicies exist in the namespace, but a cache pod's memcached port admits every source.",
    docs: r#"## What it checks
In a namespace where the rendering has NetworkPolicies, each pod template
running memcached as a cache (not as a proxy) must have its memcached port
(`-p`, 11211 by default; a listener bound to loopback with `-l 127.0.0.1`
is reachable from its own pod only and is left out) restricted: some policy selects the pod for Ingress,
and no ingress rule covering that port admits every source. A rule admits
every source when it lists no `from` peers, or a peer that is
`namespaceSelector: {}` alone (every pod of every namespace) or an `ipBlock`
of `0.0.0.0/0` or `::/0` without exceptions.

## Why it matters
memcached has no authentication through the proxy: whoever reaches the port
reads and overwrites every item, and can `flush_all`. Policies elsewhere in
the namespace suggest the cache is protected when it is not.

## Example
```yaml
kind: NetworkPolicy
spec:
  podSelector: {matchLabels: {app: memcached}}
  ingress:
    - ports: [{port: 11211}]   # no `from`: every source
```

## Fix
Give the cache pods an ingress policy whose rule for the memcached port lists
only the proxies and clients that need it.
"#,
    fix: "Admit the memcached port only from the proxies and clients that need it.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let objects = &ctx.objects;
    let policies = netpol::policies(objects);
    if policies.is_empty() {
        return;
    }
    for (i, obj) in objects.iter().enumerate() {
        let ns = obj.effective_namespace();
        let Some(pod) = netpol::pod(objects, i) else {
            continue;
        };
        if !policies.in_namespace(ns) {
            continue;
        }
        let memory = ctx.memcached_of(obj);
        let mut ports: Vec<(i64, String)> = memory
            .iter()
            .filter(|m| m.role == Role::Cache)
            .flat_map(|m| {
                let name = m.container.name.to_string();
                // A listener on loopback is reachable from its own pod only.
                let ports: Vec<i64> = match m.args.tcp_listeners() {
                    Some(ls) => ls
                        .iter()
                        .filter(|l| !l.loopback())
                        .map(|l| l.port)
                        .collect(),
                    None => vec![m.args.port.value],
                };
                ports.into_iter().map(move |p| (p, name.clone()))
            })
            .collect();
        ports.sort();
        ports.dedup_by_key(|(p, _)| *p);
        for (port, container) in ports {
            match netpol::openness(&policies, &pod, port, "TCP") {
                Openness::Restricted => {}
                Openness::NoPolicy => out.push(RULE.on(
                    obj,
                    "/spec",
                    format!(
                        "namespace `{ns}` has NetworkPolicies, but none selects {}'s pods for Ingress, so memcached's port {port} (container {container}) admits every source",
                        obj.reference()
                    ),
                )),
                Openness::Rule { policy, rule } => {
                    let pol = &objects[policy];
                    out.push(RULE.on(
                        pol,
                        &format!("/spec/ingress/{rule}"),
                        format!(
                            "{} ingress rule {} admits every source to memcached's port {port} of {}'s pods (container {container})",
                            pol.reference(),
                            rule + 1,
                            obj.reference()
                        ),
                    ))
                }
            }
        }
    }
}
