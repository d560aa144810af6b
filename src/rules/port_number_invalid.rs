use crate::json::Value;

use super::xref;
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "port-number-invalid",
    severity: Severity::Error,
    summary: "A port number is outside 1-65535, or a host-network pod's hostPort differs from its containerPort.",
    docs: r#"## What it checks
As the API server validates ports (`pkg/apis/core/validation`):

- a container's `containerPort` is 1 to 65535, and its `hostPort`, when set,
  too; in a pod with `hostNetwork: true` a `hostPort` equals its
  `containerPort`; no two ports of a pod's containers declare the same
  `hostPort`, protocol and `hostIP`;
- a Service port's `port` is 1 to 65535, a numeric `targetPort` too, and a
  `nodePort`, when set, 1 to 65535.

## Why it matters
The API server refuses the whole object; a port computed in a template
(`{{ add .Values.port 60000 }}`) or a host-network DaemonSet whose
`hostPort` was set apart from its `containerPort` are the usual causes.

## Example
```yaml
hostNetwork: true
containers:
  - name: proxy
    ports:
      - containerPort: 11211
        hostPort: 21211        # must be 11211 with hostNetwork
```

## Fix
Use a port in 1-65535; with `hostNetwork: true`, leave `hostPort` out or
set it to the `containerPort`.
"#,
    fix: "Use ports in 1-65535; with hostNetwork: true, leave hostPort out or make it equal to containerPort.",
    check,
    scope: Scope::Document,
};

fn in_range(n: i64) -> bool {
    (1..=65535).contains(&n)
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for t in xref::pod_templates(ctx) {
        let host_network = t.spec.get("hostNetwork").and_then(Value::as_bool) == Some(true);
        // (hostPort, protocol, hostIP) -> where it was first declared.
        let mut host_ports: std::collections::HashMap<(i64, String, String), String> =
            std::collections::HashMap::new();
        for c in t.containers() {
            let ports = c.json.get("ports").and_then(Value::as_array);
            for (j, p) in ports.into_iter().flatten().enumerate() {
                let Some(host) = p
                    .get("hostPort")
                    .and_then(Value::as_i64)
                    .filter(|h| *h != 0)
                else {
                    continue;
                };
                let protocol = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
                let ip = p.get("hostIP").and_then(Value::as_str).unwrap_or("");
                let key = (host, protocol.to_string(), ip.to_string());
                let here = format!("container `{}` port {j}", c.name);
                match host_ports.get(&key) {
                    Some(first) => out.push(RULE.on(
                        t.obj,
                        &format!("{}/ports/{j}/hostPort", c.pointer()),
                        format!(
                            "hostPort {host}/{protocol} of {here} is declared twice in the pod (first by {first})"
                        ),
                    )),
                    None => {
                        host_ports.insert(key, here);
                    }
                }
            }
        }
        for c in t.containers() {
            let ports = c.json.get("ports").and_then(Value::as_array);
            for (j, p) in ports.into_iter().flatten().enumerate() {
                // Written only for a finding: most ports have none.
                let at = || format!("{}/ports/{j}", c.pointer());
                let container_port = p.get("containerPort").and_then(Value::as_i64);
                if let Some(n) = container_port.filter(|n| !in_range(*n)) {
                    out.push(RULE.on(
                        t.obj,
                        &format!("{}/containerPort", at()),
                        format!(
                            "containerPort {n} of container `{}` is outside 1-65535",
                            c.name
                        ),
                    ));
                }
                let Some(host) = p
                    .get("hostPort")
                    .and_then(Value::as_i64)
                    .filter(|h| *h != 0)
                else {
                    continue;
                };
                if !in_range(host) {
                    out.push(RULE.on(
                        t.obj,
                        &format!("{}/hostPort", at()),
                        format!(
                            "hostPort {host} of container `{}` is outside 1-65535",
                            c.name
                        ),
                    ));
                } else if host_network && container_port.is_some_and(|cp| cp != host) {
                    out.push(RULE.on(
                        t.obj,
                        &format!("{}/hostPort", at()),
                        format!(
                            "hostPort {host} of container `{}` differs from its containerPort {}; with hostNetwork: true they must be equal",
                            c.name,
                            container_port.unwrap_or_default()
                        ),
                    ));
                }
            }
        }
    }
    for obj in ctx
        .objects
        .iter()
        .filter(|o| o.kind == "Service" && o.api_version == "v1")
    {
        let Some(ports) = obj.json.pointer("/spec/ports").and_then(Value::as_array) else {
            continue;
        };
        for (j, p) in ports.iter().enumerate() {
            for field in ["port", "targetPort", "nodePort"] {
                let Some(n) = p.get(field).and_then(Value::as_i64) else {
                    continue;
                };
                if field == "nodePort" && n == 0 {
                    continue;
                }
                if !in_range(n) {
                    out.push(RULE.on(
                        obj,
                        &format!("/spec/ports/{j}/{field}"),
                        format!("Service port {j}: {field} {n} is outside 1-65535"),
                    ));
                }
            }
        }
    }
}
