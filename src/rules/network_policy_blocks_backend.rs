use std::collections::BTreeSet;

use crate::json::Value;

use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::manifest::Object;
use crate::netpol::{self, Denial, Direction, Miss, Pod, Policies, Verdict};
use crate::proxy::manifest::{FoundProxy, is_loopback};
use crate::proxy::model::Backend;

pub const RULE: Rule = Rule {
    id: "network-policy-blocks-backend",
    severity: Severity::Error,
    summary: "A NetworkPolicy keeps a proxy from reaching one of its backend cache pods.",
    docs: r#"## What it checks
For each proxy found in the manifests (a DaemonSet, a Deployment with the
proxy as a sidecar of the app, ...), each backend of its config that names a
StatefulSet pod of the rendering is a connection the proxy needs: from the
proxy's pod to the cache pod's port, over TCP. The rendering's
NetworkPolicies are evaluated the way Kubernetes does: a pod selected by a
policy for a direction (`policyTypes`; by default Ingress, plus Egress when
the policy has egress rules) admits in that direction only what one of those
policies' rules allows. Both ends must agree: the proxy pod's egress and the
cache pod's ingress.

Selectors follow `matchLabels` and `matchExpressions` (In, NotIn, Exists,
DoesNotExist); ports match by number, by `endPort` range or by name (a named
port resolves against the cache pod's container ports). The only namespace
label the rendering shows is `kubernetes.io/metadata.name`; a
`namespaceSelector` on another label, and an `ipBlock`, are taken not to
match the pod, and the finding says so. A backend on loopback is the same pod
and is never blocked. A backend in a namespace the rendering does not hold
(an external cache) is judged on the proxy's egress alone, as a pod known by
its namespace only, and reported only when nothing unknown could let it
through. The proxy's way to the cluster DNS is not checked: the DNS pods are
not in the rendering.

## Why it matters
The proxy marks a backend it cannot connect to as down: every key hashed to
it fails or falls through to another pool. The policy applies cleanly and
nothing says why the cache stopped answering.

## Example
```yaml
kind: NetworkPolicy
metadata: {name: proxy}
spec:
  podSelector: {matchLabels: {app: proxy}}
  policyTypes: [Egress]
  egress:
    - to: [{podSelector: {matchLabels: {app: memcache}}}]   # the pods say app: memcached
      ports: [{port: 11211}]
```

## Fix
Add (or correct) a rule: an egress rule on the proxy's pods to the cache
pods and port, and an ingress rule on the cache pods from the proxy's pods
on that port. The finding names the policy and the rule that is missing.
"#,
    fix: "Allow the proxy's pods to the cache pods' port in both the proxy's egress and the cache pods' ingress policies.",
    check,
    scope: Scope::Set,
};

/// `matchLabels` that select `pod`: its workload's `spec.selector.matchLabels`
/// when it has one, else its labels.
fn labels_of(objects: &[Object], pod: &Pod) -> String {
    let obj = &objects[pod.object];
    let map = obj
        .json
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
        .or(pod.labels);
    let pairs: Vec<String> = map
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}: {}", v.as_str().map_or(v.to_string(), str::to_string)))
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

/// The peer a rule of a policy in `policy_ns` needs to match `pod`.
fn peer_for(objects: &[Object], policy_ns: &str, pod: &Pod) -> String {
    let pods = format!("podSelector: {{matchLabels: {}}}", labels_of(objects, pod));
    if pod.namespace == policy_ns {
        pods
    } else {
        format!(
            "namespaceSelector: {{matchLabels: {{{}: {}}}}}, {pods}",
            netpol::NAMESPACE_NAME_LABEL,
            pod.namespace
        )
    }
}

/// How many policies, and rules of each, a message names; a hostile
/// rendering may hold thousands.
const SHOWN: usize = netpol::DETAILED_MISSES;

/// Why each denying policy misses, the first few of them.
fn explain_all(denial: &Denial, dir: Direction) -> String {
    let mut s = denial
        .misses
        .iter()
        .take(SHOWN)
        .map(|m| explain(m, dir))
        .collect::<Vec<_>>()
        .join("; ");
    let shown = denial.misses.len().min(SHOWN);
    if denial.policies > shown {
        s.push_str(&format!("; and {} more policies", denial.policies - shown));
    }
    s
}

fn explain(miss: &Miss, dir: Direction) -> String {
    let mut s = miss.reference.clone();
    if miss.rule_count == 0 {
        s.push_str(&format!(
            ", which has no {} rules{}, so it denies all {}",
            dir.field(),
            if miss.explicit_types {
                format!(" but lists {} in policyTypes", dir.as_str())
            } else {
                String::new()
            },
            dir.field()
        ));
    } else {
        let shown: Vec<&str> = miss.rules.iter().take(SHOWN).map(String::as_str).collect();
        s.push_str(&format!(": {}", shown.join("; ")));
        if miss.rule_count > shown.len() {
            s.push_str(&format!(
                " (and {} more rules)",
                miss.rule_count - shown.len()
            ));
        }
    }
    if !miss.notes.is_empty() {
        s.push_str(&format!(" (note: {})", miss.notes.join("; ")));
    }
    s
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let objects = &ctx.objects;
    let policies = netpol::policies(objects);
    if policies.is_empty() {
        return;
    }
    let hosts = ctx.hosts();
    let mut seen = BTreeSet::new();
    let mut seen_outside = BTreeSet::new();
    for (c, found, obj) in super::proxies::manifest_configs(ctx) {
        let Some(proxy_pod) = netpol::pod(objects, found.object) else {
            continue;
        };
        let ns = obj.effective_namespace();
        for p in &c.model.pools {
            for b in p.backends.iter().filter(|b| b.problem.is_none()) {
                if is_loopback(&b.host) {
                    continue; // the same pod: no policy applies
                }
                let Ok(port) = b.port.parse::<i64>() else {
                    continue;
                };
                let Some(ph) = hosts.pod_host(ns, &b.host) else {
                    if let Some(ext) = hosts.external_host(&b.host)
                        && !ext.namespace_rendered
                        && seen_outside.insert((
                            found.object,
                            found.container_name.clone(),
                            ext.namespace.clone(),
                            port,
                        ))
                    {
                        outside(
                            ctx,
                            &policies,
                            found,
                            &proxy_pod,
                            b,
                            &p.reference(),
                            &ext.namespace,
                            port,
                            out,
                        );
                    }
                    continue;
                };
                if ph.statefulset == found.object {
                    continue;
                }
                if !seen.insert((
                    found.object,
                    found.container_name.clone(),
                    ph.statefulset,
                    port,
                )) {
                    continue; // pods of one StatefulSet share their labels
                }
                let Some(cache_pod) = netpol::pod(objects, ph.statefulset) else {
                    continue;
                };
                let sts = &objects[ph.statefulset];
                let at = format!(
                    "{} cannot reach backend {} (a pod of {}) in pool {}",
                    found.name(objects),
                    b.address(),
                    sts.reference(),
                    p.reference()
                );
                report_path(
                    &RULE, objects, &policies, &at, &proxy_pod, &cache_pod, port, out,
                );
            }
        }
    }
}

/// Findings of `rule` for each side (the source's egress, the destination's
/// ingress) that denies `from` reaching `to`'s TCP `port`; `at` says which
/// path it is.
#[allow(clippy::too_many_arguments)]
pub(super) fn report_path(
    rule: &Rule,
    objects: &[Object],
    policies: &Policies,
    at: &str,
    from: &Pod,
    to: &Pod,
    port: i64,
    out: &mut Vec<Finding>,
) {
    for dir in [Direction::Egress, Direction::Ingress] {
        let Verdict::Denied(denial) = netpol::decide(policies, dir, from, to, port, "TCP") else {
            continue;
        };
        let (subject, other) = match dir {
            Direction::Egress => (from, to),
            Direction::Ingress => (to, from),
        };
        let why = explain_all(&denial, dir);
        let lead = if denial.policies > 1 {
            ", no policy allows it: "
        } else {
            " by "
        };
        // A policy selects pods of its own namespace.
        let msg = format!(
            "{at}: {} of {}'s pods is denied{lead}{}; missing: an {} rule with `{}: [{{{}}}]` and `ports: [{{port: {port}, protocol: TCP}}]`",
            dir.field(),
            objects[subject.object].reference(),
            why,
            dir.field(),
            dir.peers(),
            peer_for(objects, subject.namespace, other),
        );
        let pol = &objects[denial.misses[0].policy];
        let path = if pol
            .json
            .pointer(&format!("/spec/{}", dir.field()))
            .is_some()
        {
            format!("/spec/{}", dir.field())
        } else if pol.json.pointer("/spec/policyTypes").is_some() {
            "/spec/policyTypes".to_string()
        } else {
            "/spec".to_string()
        };
        out.push(rule.on(pol, &path, msg));
    }
}

/// A backend in a namespace the rendering does not hold: only the proxy's
/// egress can be judged, against a pod known by its namespace alone, and only
/// a denial nothing unknown could have changed is reported.
#[allow(clippy::too_many_arguments)]
fn outside(
    ctx: &Context,
    policies: &Policies,
    found: &FoundProxy,
    proxy_pod: &Pod,
    b: &Backend,
    pool: &str,
    namespace: &str,
    port: i64,
    out: &mut Vec<Finding>,
) {
    let objects = &ctx.objects;
    let dest = Pod::outside(namespace);
    let Verdict::Denied(denial) =
        netpol::decide(policies, Direction::Egress, proxy_pod, &dest, port, "TCP")
    else {
        return;
    };
    if denial.undecided {
        return;
    }
    let why = explain_all(&denial, Direction::Egress);
    let lead = if denial.policies > 1 {
        ", no policy allows it: "
    } else {
        " by "
    };
    let msg = format!(
        "{} cannot reach backend {} (namespace `{namespace}`, outside the rendering) in pool {pool}: egress of {}'s pods is denied{lead}{}; missing: an egress rule with `to: [{{namespaceSelector: {{matchLabels: {{{}: {namespace}}}}}}}]` and `ports: [{{port: {port}, protocol: TCP}}]`",
        found.name(objects),
        b.address(),
        objects[proxy_pod.object].reference(),
        why,
        netpol::NAMESPACE_NAME_LABEL,
    );
    let pol = &objects[denial.misses[0].policy];
    let path = if pol.json.pointer("/spec/egress").is_some() {
        "/spec/egress"
    } else {
        "/spec/policyTypes"
    };
    out.push(RULE.on(pol, path, msg));
}
