use std::collections::{BTreeSet, HashMap, HashSet};

use crate::json::Value;

use super::network_policy_blocks_backend::report_path;
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::k8s;
use crate::netpol::{self, Selector};
use crate::proxy::manifest::is_loopback;

pub const RULE: Rule = Rule {
    id: "network-policy-blocks-client",
    severity: Severity::Error,
    summary: "A NetworkPolicy keeps a pod from reaching the proxy Service or cache pod its configuration names.",
    docs: r#"## What it checks
Every `host:port` written in a container's `args`, `command` or literal `env`
values (split on spaces, commas and semicolons; a `scheme://` prefix is
dropped) that names something of the rendering is a path that pod needs:
- a Service (`svc`, `svc.ns`, `svc.ns.svc.<domain>`) on one of its ports:
  to each workload the Service selects that runs a memcached proxy, at the
  port's `targetPort` (a named one resolved on the pod);
- a StatefulSet pod (`sts-0.svc.ns.svc.<domain>`) running memcached: to
  that pod's port.

Each path is evaluated against the NetworkPolicies as
`network-policy-blocks-backend` evaluates a proxy's backends: the client
pod's egress and the destination pod's ingress must both let it through.
A target on loopback is the client's own pod and is never blocked. Clients
that take their servers from elsewhere (a file, a ConfigMap read by the
application) are not seen.

## Why it matters
An app (or the chart's `helm test` pod) whose way to the proxy is closed gets
connection timeouts on every request; the cache looks down while it is
healthy.

## Example
The proxy's policy admits `podSelector: {matchLabels: {app: web}}`, and the
client pod running `nc memcached-proxy 11211` is labelled `app: shop-web`.

## Fix
Admit the client's pods in the proxy's (or cache's) ingress policy, and let
them out in the client's egress policy if it has one.
"#,
    fix: "Admit the client's pods at the port it uses, in the destination's ingress and the client's egress policies.",
    check,
    scope: Scope::Set,
};

/// Every `host:port` token of a container's args, command and literal env values.
fn targets(c: &k8s::Container) -> Vec<(String, i64)> {
    let mut texts: Vec<String> = c.strings("command");
    texts.extend(c.strings("args"));
    if let Some(env) = c.json.get("env").and_then(Value::as_array) {
        texts.extend(
            env.iter()
                .filter_map(|e| e.get("value").and_then(Value::as_str))
                .map(str::to_string),
        );
    }
    let mut out = Vec::new();
    for t in &texts {
        for token in t.split(|ch: char| ch.is_whitespace() || ",;\"'".contains(ch)) {
            let token = token.rsplit_once("://").map_or(token, |(_, rest)| rest);
            let Some((host, port)) = token.rsplit_once(':') else {
                continue;
            };
            let Ok(port) = port.parse::<i64>() else {
                continue;
            };
            if host.is_empty()
                || !(1..=65535).contains(&port)
                || !host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            {
                continue;
            }
            out.push((host.to_ascii_lowercase(), port));
        }
    }
    out
}

/// The target port of `svc`'s port `port` on `pod`, if the Service has that port.
fn target_port(svc: &Value, pod: &netpol::Pod, port: i64) -> Option<i64> {
    let p = svc
        .pointer("/spec/ports")?
        .as_array()?
        .iter()
        .find(|p| p.get("port").and_then(Value::as_i64) == Some(port))?;
    let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
    if proto != "TCP" {
        return None;
    }
    match p.get("targetPort") {
        None | Some(Value::Null) => Some(port),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(name)) => name.parse().ok().or_else(|| {
            pod.ports
                .iter()
                .find(|(n, _, pr)| n.as_deref() == Some(name.as_str()) && pr == "TCP")
                .map(|(_, n, _)| *n)
        }),
        Some(_) => None,
    }
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let objects = &ctx.objects;
    let policies = netpol::policies(objects);
    if policies.is_empty() {
        return;
    }
    // The pods running a proxy, per namespace, in input order.
    let found: BTreeSet<usize> = ctx.proxies().found.iter().map(|f| f.object).collect();
    let mut proxies: HashMap<&str, Vec<netpol::Pod>> = HashMap::new();
    for pod in found.into_iter().filter_map(|i| netpol::pod(objects, i)) {
        proxies.entry(pod.namespace).or_default().push(pod);
    }
    // Names a target's first label may carry (`svc`, `sts-0`): a token
    // naming none of them is not looked up at all.
    let names: HashSet<&str> = objects
        .iter()
        .filter(|o| o.kind == "StatefulSet" || o.kind == "Service")
        .map(|o| &*o.name)
        .collect();
    // Destinations per (namespace, host without its ordinal, port): a
    // rendering may name one host from thousands of pods.
    let mut resolved: HashMap<(&str, String, i64), Vec<Destination>> = HashMap::new();
    let mut seen = BTreeSet::new();
    for (i, obj) in objects.iter().enumerate() {
        let Some(client) = netpol::pod(objects, i) else {
            continue;
        };
        let ns = obj.effective_namespace();
        for c in k8s::containers(obj) {
            for (host, port) in targets(&c) {
                if is_loopback(&host) {
                    continue; // the client's own pod
                }
                let first = host.split('.').next().unwrap_or("");
                let stem = match first.rsplit_once('-') {
                    Some((name, ord))
                        if !ord.is_empty() && ord.bytes().all(|b| b.is_ascii_digit()) =>
                    {
                        name
                    }
                    _ => first,
                };
                if !names.contains(first) && !names.contains(stem) {
                    continue;
                }
                // The ordinal does not change which StatefulSet a pod name
                // resolves to; a name that is itself an object's keeps it.
                let named = if names.contains(first) { first } else { stem };
                let key = (ns, format!("{named}{}", &host[first.len()..]), port);
                if !resolved.contains_key(&key) {
                    let dests = destinations(ctx, &proxies, ns, &host, port);
                    resolved.insert(key.clone(), dests);
                }
                for (d, dport, what) in &resolved[&key] {
                    let (d, dport) = (*d, *dport);
                    if d == i || !seen.insert((i, c.name.to_string(), d, dport)) {
                        continue;
                    }
                    let Some(dest) = netpol::pod(objects, d) else {
                        continue;
                    };
                    let at = format!(
                        "{} container {} cannot reach {host}:{port} ({what})",
                        obj.reference(),
                        c.name
                    );
                    report_path(&RULE, objects, &policies, &at, &client, &dest, dport, out);
                }
            }
        }
    }
}

/// A path's end: the object running the pod, its port, and what it is.
type Destination = (usize, i64, String);

/// Where `host:port`, written in a pod of namespace `ns`, leads: (object,
/// its port, what it is) for a cache pod, or each proxy workload a Service
/// selects (`proxies`: their pods per namespace).
fn destinations(
    ctx: &Context,
    proxies: &HashMap<&str, Vec<netpol::Pod>>,
    ns: &str,
    host: &str,
    port: i64,
) -> Vec<Destination> {
    let (objects, hosts) = (&ctx.objects, ctx.hosts());
    if let Some(ph) = hosts.pod_host(ns, host) {
        let sts = &objects[ph.statefulset];
        if ctx.memcached_of(sts).is_empty() {
            return Vec::new();
        }
        return vec![(
            ph.statefulset,
            port,
            format!("a pod of {}", sts.reference()),
        )];
    }
    let Some(svc) = hosts.service_host(ns, host).map(|si| &objects[si]) else {
        return Vec::new();
    };
    let Some(sel) = svc
        .json
        .pointer("/spec/selector")
        .filter(|s| s.as_object().is_some_and(|m| !m.is_empty()))
        .and_then(Selector::from_map)
    else {
        return Vec::new();
    };
    let mut dests = Vec::new();
    let in_namespace = proxies.get(svc.effective_namespace());
    for pod in in_namespace.into_iter().flatten() {
        if !sel.matches(pod.labels) {
            continue;
        }
        let pi = pod.object;
        if let Some(tp) = target_port(svc.json, pod, port) {
            dests.push((
                pi,
                tp,
                format!(
                    "{} through {} port {port}",
                    objects[pi].reference(),
                    svc.reference()
                ),
            ));
        }
    }
    dests
}
