use crate::json::Value;

use super::xref;
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "duplicate-container-port",
    severity: Severity::Error,
    summary: "Two containers of one pod declare the same port.",
    docs: r#"## What it checks
That no two containers of a pod that run at the same time (regular containers
and native sidecars, i.e. init containers with `restartPolicy: Always`)
declare the same `containerPort` with the same protocol. Init containers that
finish before the others start are not compared.

## Why it matters
The containers of a pod share one network namespace: only one process can
listen on a port. A memcached sidecar and a proxy both on 11211 means one of
them fails to bind and crash-loops, and a Service or probe that refers to the
port reaches whichever won.

## Example
```yaml
initContainers:
  - name: proxy
    restartPolicy: Always
    ports: [{name: proxy, containerPort: 11211}]
containers:
  - name: memcached
    ports: [{name: memcache, containerPort: 11211}]
```

## Fix
Give each container its own port (and update the Services, probes and proxy
config that refer to it).
"#,
    fix: "Give each container of the pod its own port number.",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for t in xref::pod_templates(ctx) {
        let mut seen: Vec<(i64, String, String)> = Vec::new(); // (port, protocol, container)
        for c in t.containers().into_iter().filter(|c| c.long_running()) {
            let ports = c.json.get("ports").and_then(Value::as_array);
            let mut mine: Vec<(i64, String)> = Vec::new();
            for (j, p) in ports.into_iter().flatten().enumerate() {
                let Some(port) = p.get("containerPort").and_then(Value::as_i64) else {
                    continue;
                };
                let protocol = p
                    .get("protocol")
                    .and_then(Value::as_str)
                    .unwrap_or("TCP")
                    .to_string();
                if let Some((_, _, other)) =
                    seen.iter().find(|(n, pr, _)| *n == port && *pr == protocol)
                {
                    out.push(RULE.on(
                        t.obj,
                        &format!("{}/ports/{j}/containerPort", c.pointer()),
                        format!(
                            "containers `{other}` and `{}` both declare port {port}/{protocol}; they share the pod's network, so only one of them can listen on it",
                            c.name
                        ),
                    ));
                }
                mine.push((port, protocol));
            }
            seen.extend(mine.into_iter().map(|(n, p)| (n, p, c.name.to_string())));
        }
    }
}
