use crate::json::Value;

use super::xref;
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::k8s;
use crate::manifest::Object;

pub const RULE: Rule = Rule {
    id: "named-port-undeclared",
    severity: Severity::Error,
    summary: "A probe or a Service `targetPort` names a port no container declares.",
    docs: r#"## What it checks
That a port given by name is declared (`ports[].name`) where Kubernetes looks
it up:

- `httpGet` and `tcpSocket` probes (liveness, readiness, startup) that name a
  port: in the probed container itself;
- a Service's `targetPort` that names a port: in a container of the pods the
  Service selects (in its namespace), with the same protocol.

Probes with a `host` of their own, and Services that select no pods (see
`service-selects-no-pods`), are skipped. Ports given by number are checked by
`port-number-undeclared`.

## Why it matters
A probe whose port name is not declared fails every time, so the container is
never ready (readiness) or is restarted forever (liveness). A Service whose
named `targetPort` no selected pod declares gets no endpoints for that port:
clients are refused although the pods run.

## Example
```yaml
ports:
  - name: memcache
    containerPort: 11211
livenessProbe:
  tcpSocket:
    port: memcached     # the port is called `memcache`
```

## Fix
Use the name the container declares, or declare the port under that name.
"#,
    fix: "Use a port name the container declares, or declare the port with that name.",
    check,
    scope: Scope::Both,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    out.extend(ctx.port_findings().named.iter().cloned());
}

/// A port reference that does not resolve.
pub(super) struct PortProblem<'c, 'a> {
    pub obj: &'c Object<'a>,
    pub pointer: String,
    pub message: String,
    /// By name (`named-port-undeclared`) or by number (`port-number-undeclared`).
    pub named: bool,
}

/// A declared container port: (container, name, number, protocol).
type Declared<'v> = (&'v str, Option<&'v str>, i64, &'v str);

/// The ports declared by the long-running ones of `containers`.
fn declared_ports<'v>(containers: &'v [k8s::Container<'v>]) -> Vec<Declared<'v>> {
    containers
        .iter()
        .filter(|c| c.long_running())
        .flat_map(|c| {
            c.ports()
                .into_iter()
                .map(move |(n, p, proto)| (c.name, n, p, proto))
        })
        .collect()
}

enum PortValue<'v> {
    Name(&'v str),
    Number(i64),
}

fn port_value(v: &Value, probe: bool) -> Option<PortValue<'_>> {
    match v {
        Value::Number(n) => n.as_i64().map(PortValue::Number),
        // The kubelet takes a probe port name made of digits as a number.
        Value::String(s) if probe && !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok().map(PortValue::Number)
        }
        Value::String(s) => Some(PortValue::Name(s)),
        _ => None,
    }
}

fn names(declared: &[Declared]) -> String {
    let named: Vec<String> = declared
        .iter()
        .filter_map(|(c, n, port, _)| n.map(|n| format!("`{n}` ({port}, container `{c}`)")))
        .collect();
    if named.is_empty() {
        "no port has a name".to_string()
    } else {
        format!("declared: {}", named.join(", "))
    }
}

/// The port problems of the pass: probes (each pod alone) in the document
/// pass, Service target ports (Services and the pods they select) in the set
/// pass.
pub(super) fn port_problems<'c, 'a>(ctx: &'c Context<'a>) -> Vec<PortProblem<'c, 'a>> {
    let mut out = Vec::new();
    let templates = xref::pod_templates(ctx);
    if ctx.pass == Scope::Document {
        probe_problems(&templates, &mut out);
    } else {
        service_problems(ctx, &templates, &mut out);
    }
    out
}

fn probe_problems<'c, 'a>(
    templates: &[xref::PodTemplate<'c, 'a>],
    out: &mut Vec<PortProblem<'c, 'a>>,
) {
    for t in templates {
        let containers = t.containers();
        let pod_ports = declared_ports(&containers);
        for c in containers.iter().filter(|c| c.long_running()) {
            let own: Vec<Declared> = c
                .ports()
                .into_iter()
                .map(|(n, p, proto)| (c.name, n, p, proto))
                .collect();
            for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                let Some(spec) = c.json.get(probe) else {
                    continue;
                };
                for handler in ["httpGet", "tcpSocket", "grpc"] {
                    let Some(h) = spec.get(handler) else {
                        continue;
                    };
                    if h.get("host")
                        .and_then(Value::as_str)
                        .is_some_and(|s| !s.is_empty())
                    {
                        continue;
                    }
                    let Some(port) = h.get("port").and_then(|v| port_value(v, true)) else {
                        continue;
                    };
                    let pointer = || format!("{}/{probe}/{handler}/port", c.pointer());
                    match port {
                        PortValue::Name(name) => {
                            if own.iter().any(|d| d.1 == Some(name)) {
                                continue;
                            }
                            let mut message = format!(
                                "the {probe} of container `{}` uses port `{name}`, which the container does not declare ({})",
                                c.name,
                                names(&own)
                            );
                            if let Some(other) = pod_ports.iter().find(|d| d.1 == Some(name)) {
                                message.push_str(&format!(
                                    "; container `{}` does, but a probe looks a port name up in its own container only",
                                    other.0
                                ));
                            }
                            message.push_str("; the probe always fails");
                            out.push(PortProblem {
                                obj: t.obj,
                                pointer: pointer(),
                                message,
                                named: true,
                            });
                        }
                        PortValue::Number(n) => {
                            if pod_ports.iter().any(|d| d.2 == n) {
                                continue;
                            }
                            out.push(PortProblem {
                                obj: t.obj,
                                pointer: pointer(),
                                message: format!(
                                    "the {probe} of container `{}` probes port {n}, which no container of the pod declares",
                                    c.name
                                ),
                                named: false,
                            });
                        }
                    }
                }
            }
        }
    }
}

fn service_problems<'c, 'a>(
    ctx: &'c Context<'a>,
    templates: &[xref::PodTemplate<'c, 'a>],
    out: &mut Vec<PortProblem<'c, 'a>>,
) {
    for (svc, sel) in xref::selecting_services(ctx) {
        let ns = svc.effective_namespace();
        let selected: Vec<&xref::PodTemplate> =
            xref::templates_selected(ctx, templates, Some(ns), sel)
                .into_iter()
                .map(|i| &templates[i])
                .collect();
        if selected.is_empty() {
            continue;
        }
        // Named only in a finding: built when one is made.
        let pods = || {
            selected
                .iter()
                .map(|t| t.obj.reference().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let all_containers: Vec<_> = selected.iter().flat_map(|t| t.containers()).collect();
        let declared = declared_ports(&all_containers);
        let ports = svc.json.pointer("/spec/ports").and_then(Value::as_array);
        for (i, p) in ports.into_iter().flatten().enumerate() {
            let protocol = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
            let label = || {
                p.get("name")
                    .and_then(Value::as_str)
                    .map(|n| format!("port `{n}`"))
                    .unwrap_or_else(|| {
                        format!(
                            "port {}",
                            p.get("port").map(Value::to_string).unwrap_or_default()
                        )
                    })
            };
            let (value, field, defaulted) = match p.get("targetPort").filter(|v| !v.is_null()) {
                Some(v) => (v, "targetPort", false),
                None => match p.get("port") {
                    Some(v) => (v, "port", true),
                    None => continue,
                },
            };
            let pointer = || format!("/spec/ports/{i}/{field}");
            let Some(target) = port_value(value, false) else {
                continue;
            };
            match target {
                PortValue::Name(name) => {
                    if declared
                        .iter()
                        .any(|d| d.1 == Some(name) && d.3 == protocol)
                    {
                        continue;
                    }
                    let why = match declared.iter().find(|d| d.1 == Some(name)) {
                        Some(d) => format!(
                            "container `{}` declares it with protocol {}, not {protocol}",
                            d.0, d.3
                        ),
                        None => names(&declared),
                    };
                    out.push(PortProblem {
                        obj: svc,
                        pointer: pointer(),
                        message: format!(
                            "{} of {} targets the port named `{name}`, which no container of the pods it selects ({}) declares ({why}); the Service has no endpoints for it",
                            label(),
                            svc.reference(),
                            pods()
                        ),
                        named: true,
                    });
                }
                PortValue::Number(n) => {
                    if declared.iter().any(|d| d.2 == n && d.3 == protocol) {
                        continue;
                    }
                    let which = if defaulted {
                        "targets (by default, its own number)"
                    } else {
                        "targets"
                    };
                    out.push(PortProblem {
                        obj: svc,
                        pointer: pointer(),
                        message: format!(
                            "{} of {} {which} port {n}/{protocol}, which no container of the pods it selects ({}) declares",
                            label(),
                            svc.reference(),
                            pods()
                        ),
                        named: false,
                    });
                }
            }
        }
    }
}
