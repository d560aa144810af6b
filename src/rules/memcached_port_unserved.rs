use crate::json::Value;

use super::xref;
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::memcached::cmdline::{Listener, MemcachedContainer};

pub const RULE: Rule = Rule {
    id: "memcached-port-unserved",
    severity: Severity::Error,
    summary: "A probe, Service or declared port aims at a port memcached does not serve from outside the pod.",
    docs: r#"## What it checks
For every container that runs memcached (a cache or the proxy), the TCP
listeners its command line opens, as memcached 1.6.38 opens them: `-p`
(default 11211; `-p 0` opens none) on every interface, or on each `-l`
address, which may carry its own `:port`. Then:
- each `tcpSocket`, `httpGet` or `grpc` probe of the container targets a port
  memcached listens on, on an address the kubelet reaches (the pod IP, so not
  a loopback-only listener);
- each TCP `containerPort` the container declares is one memcached listens
  on;
- each Service selecting the pod that targets one of the container's ports
  (by number or by name) does not land on a loopback-only listener.

## Why it matters
The pod runs, but nothing answers where traffic is sent: probes fail (the
pod never becomes ready, or is restarted over and over), and the Service's
endpoints refuse every connection. Moving memcached with `-p` and forgetting
the `containerPort`, or binding it to `127.0.0.1` behind a Service, are the
usual causes.

## Example
```yaml
args: ["-p", "11299", "-m", "64"]
ports: [{name: memcache, containerPort: 11211}]
readinessProbe: {tcpSocket: {port: memcache}}
```

## Fix
Make `-p`/`-l` and the declared port, probes and Service agree. A cache
meant only for its own pod binds `127.0.0.1` and uses exec probes that
connect from inside the pod.
"#,
    fix: "Make memcached's -p/-l, the containerPort, the probes and the Service's targetPort agree.",
    check,
    scope: Scope::Both,
};

fn describe(listeners: &[Listener]) -> String {
    if listeners.is_empty() {
        return "no TCP port (-p 0)".into();
    }
    listeners
        .iter()
        .map(|l| match &l.host {
            Some(h) if h.contains(':') => format!("[{h}]:{}", l.port),
            Some(h) => format!("{h}:{}", l.port),
            None => format!("*:{}", l.port),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why `port` is not served from outside the pod, if it is not.
fn unserved(listeners: &[Listener], port: i64) -> Option<String> {
    let on: Vec<&Listener> = listeners.iter().filter(|l| l.port == port).collect();
    if on.is_empty() {
        Some(format!("memcached listens on {}", describe(listeners)))
    } else if on.iter().all(|l| l.loopback()) {
        Some(format!(
            "memcached binds port {port} to {} only, which nothing outside the pod reaches",
            describe(&on.into_iter().cloned().collect::<Vec<_>>())
        ))
    } else {
        None
    }
}

/// A probe's or targetPort's port: a number, or the name of a declared port.
fn resolve(port: &Value, declared: &[(Option<&str>, i64, &str)]) -> Option<i64> {
    match port {
        Value::Number(n) => n.as_i64(),
        Value::String(name) => name.parse().ok().or_else(|| {
            declared
                .iter()
                .find(|(n, _, _)| *n == Some(name.as_str()))
                .map(|(_, p, _)| *p)
        }),
        _ => None,
    }
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for t in xref::pod_templates(ctx) {
        for mc in ctx.memcached_of(t.obj).iter() {
            let Some(listeners) = mc.args.tcp_listeners() else {
                continue;
            };
            check_container(ctx, &t, mc, &listeners, out);
        }
    }
}

fn check_container(
    ctx: &Context,
    t: &xref::PodTemplate,
    mc: &MemcachedContainer,
    listeners: &[Listener],
    out: &mut Vec<Finding>,
) {
    let c = &mc.container;
    let declared = c.ports();
    let role = mc.role.as_str();
    if ctx.pass == Scope::Set {
        services(ctx, t, mc, listeners, &declared, out);
        return;
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        let Some(spec) = c.json.get(probe) else {
            continue;
        };
        for kind in ["tcpSocket", "httpGet", "grpc"] {
            let Some(port) = spec.get(kind).and_then(|k| k.get("port")) else {
                continue;
            };
            let Some(n) = resolve(port, &declared) else {
                continue; // an undeclared name is named-port-undeclared's finding
            };
            if let Some(why) = unserved(listeners, n) {
                out.push(RULE.on(
                    t.obj,
                    &format!("{}/{probe}/{kind}/port", c.pointer()),
                    format!(
                        "the {role} container `{}` has a {probe} on port {n}, but {why}: the probe fails",
                        c.name
                    ),
                ));
            }
        }
    }
    let ports = c.json.get("ports").and_then(Value::as_array);
    for (j, p) in ports.into_iter().flatten().enumerate() {
        let Some(n) = p.get("containerPort").and_then(Value::as_i64) else {
            continue;
        };
        if p.get("protocol").and_then(Value::as_str).unwrap_or("TCP") != "TCP" {
            continue;
        }
        if !listeners.iter().any(|l| l.port == n) {
            out.push(RULE.on(
                t.obj,
                &format!("{}/ports/{j}/containerPort", c.pointer()),
                format!(
                    "the {role} container `{}` declares containerPort {n}, but memcached listens on {}: whatever is sent to {n} is refused",
                    c.name,
                    describe(listeners)
                ),
            ));
        }
    }
}

/// The set pass: Services that target a port memcached serves to loopback only.
fn services(
    ctx: &Context,
    t: &xref::PodTemplate,
    mc: &MemcachedContainer,
    listeners: &[Listener],
    declared: &[(Option<&str>, i64, &str)],
    out: &mut Vec<Finding>,
) {
    let c = &mc.container;
    let role = mc.role.as_str();
    for (svc, _) in xref::services_selecting(ctx, t) {
        let svc_ports = svc.json.pointer("/spec/ports").and_then(Value::as_array);
        for (j, sp) in svc_ports.into_iter().flatten().enumerate() {
            let target = sp.get("targetPort").or_else(|| sp.get("port"));
            let Some(target) = target else { continue };
            let Some(n) = resolve(target, declared) else {
                continue;
            };
            // Only ports memcached listens on (loopback only); ports declared but
            // not listened on are reported on the workload above.
            if listeners.iter().any(|l| l.port == n)
                && let Some(why) = unserved(listeners, n)
            {
                out.push(RULE.on(
                    svc,
                    &format!("/spec/ports/{j}/targetPort"),
                    format!(
                        "Service port {j} targets port {n} of the {role} container `{}` in {}, but {why}: its endpoints refuse every connection",
                        c.name,
                        xref::describe(t.obj)
                    ),
                ));
            }
        }
    }
}
