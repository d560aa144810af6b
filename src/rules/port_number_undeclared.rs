use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "port-number-undeclared",
    severity: Severity::Warning,
    summary: "A probe or a Service `targetPort` uses a port number no container declares.",
    docs: r#"## What it checks
That a port given by number is declared by a container (`ports[].containerPort`):

- `httpGet`, `tcpSocket` and `grpc` probes: by some long-running container of
  the same pod (containers share the pod's network);
- a Service's `targetPort` (or its `port`, when `targetPort` is left out): by a
  container of the pods the Service selects, with the same protocol.

Probes with a `host` of their own, and Services that select no pods, are
skipped. Ports given by name are checked by `named-port-undeclared`.

## Why it matters
Declaring a port is not required for traffic to reach it, so this is a
warning. But an undeclared number is usually a typo or a port changed in one
place only (`-p 11212` in the args, `11211` in the Service), and it hides the
port from anything that reads the declarations: named-port lookups, network
policies written against them, and readers of the manifest.

## Example
```yaml
kind: Service
spec:
  ports:
    - port: 11211
      targetPort: 11212    # the container declares containerPort: 11211
```

## Fix
Declare the port in the container (`ports: [{name: ..., containerPort: N}]`),
better still refer to it by that name, or correct the number.
"#,
    fix: "Declare the port in the container's `ports` (and refer to it by name), or correct the number.",
    check,
    scope: Scope::Both,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    out.extend(ctx.port_findings().numbered.iter().cloned());
}
