use std::collections::HashMap;

use crate::json::Value;

use super::xref;
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "pod-name-duplicate",
    severity: Severity::Error,
    summary: "Two containers (init containers included) or two volumes of one pod, or two ports of one container, share a name.",
    docs: r#"## What it checks
Within one pod template: container names are unique across `containers`,
`initContainers` and `ephemeralContainers`, volume names are unique in
`volumes`, and port names are unique within each container, as the API
server validates them (`Duplicate value`).

## Why it matters
The API server refuses the whole object. A chart's `sidecars` or
`extraVolumes` value that reuses a name the chart already renders (`config`,
`proxy`) is the usual cause.

## Example
```yaml
volumes:
  - name: config
    configMap: {name: app}
  - name: config          # from extraVolumes
    secret: {secretName: tls}
```

## Fix
Rename one of them (and its `volumeMounts`).
"#,
    fix: "Give every container and every volume of a pod its own name.",
    check,
    scope: Scope::Document,
};

fn shown(s: &str) -> String {
    s.chars().flat_map(char::escape_debug).take(80).collect()
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for t in xref::pod_templates(ctx) {
        let mut seen: HashMap<&str, (&str, usize)> = HashMap::new();
        for field in ["initContainers", "containers", "ephemeralContainers"] {
            let Some(list) = t.spec.get(field).and_then(Value::as_array) else {
                continue;
            };
            for (i, c) in list.iter().enumerate() {
                let Some(name) = c.get("name").and_then(Value::as_str) else {
                    continue;
                };
                // Where a name was first met, written out only for a finding.
                let at = |field: &str, i: usize| format!("{}/{field}/{i}/name", t.spec_pointer);
                match seen.get(name) {
                    Some(&(first_field, first_i)) => out.push(RULE.on(
                        t.obj,
                        &at(field, i),
                        format!(
                            "container name `{}` is used twice in the pod (first at {})",
                            shown(name),
                            at(first_field, first_i)
                        ),
                    )),
                    None => {
                        seen.insert(name, (field, i));
                    }
                }
            }
        }
        // Port names, within each container.
        for c in t.containers() {
            let mut ports: HashMap<&str, usize> = HashMap::new();
            let list = c.json.get("ports").and_then(Value::as_array);
            for (j, p) in list.into_iter().flatten().enumerate() {
                let Some(name) = p.get("name").and_then(Value::as_str) else {
                    continue;
                };
                match ports.get(name) {
                    Some(first) => out.push(RULE.on(
                        t.obj,
                        &format!("{}/ports/{j}/name", c.pointer()),
                        format!(
                            "port name `{}` is used twice in container `{}` (first as port {first})",
                            shown(name),
                            shown(c.name)
                        ),
                    )),
                    None => {
                        ports.insert(name, j);
                    }
                }
            }
        }
        let mut volumes: HashMap<&str, usize> = HashMap::new();
        for (i, name, _) in t.volumes() {
            match volumes.get(name) {
                Some(first) => out.push(RULE.on(
                    t.obj,
                    &format!("{}/volumes/{i}/name", t.spec_pointer),
                    format!(
                        "volume name `{}` is used twice in the pod (first as volume {first})",
                        shown(name)
                    ),
                )),
                None => {
                    volumes.insert(name, i);
                }
            }
        }
    }
}
