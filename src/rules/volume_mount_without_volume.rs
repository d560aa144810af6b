use crate::json::Value;

use super::xref;
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "volume-mount-without-volume",
    severity: Severity::Error,
    summary: "A container mounts a volume its pod does not declare.",
    docs: r#"## What it checks
That the `name` of every `volumeMounts` and `volumeDevices` entry of every
container (init containers and native sidecars included) is the name of a
volume in the pod's `volumes` list.

## Why it matters
The API server rejects the workload (`volumeMounts[0].name: Not found`), so the
release fails to install. In charts this happens when a volume is rendered
under a condition (`{{- if .Values.proxy.enabled }}`) and its mount under
another.

## Example
```yaml
containers:
  - name: proxy
    volumeMounts:
      - name: proxy-config      # the volume below is called `config`
        mountPath: /etc/memcached
volumes:
  - name: config
    configMap: {name: memcached-proxy}
```

## Fix
Mount a declared volume, or declare the volume under the same condition as the
mount.
"#,
    fix: "Declare the volume in the pod's `volumes`, or mount one that is declared.",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for t in xref::pod_templates(ctx) {
        let volumes = t.volumes();
        let names: Vec<&str> = volumes.iter().map(|(_, n, _)| *n).collect();
        for c in t.containers() {
            for field in ["volumeMounts", "volumeDevices"] {
                let mounts = c.json.get(field).and_then(Value::as_array);
                for (j, m) in mounts.into_iter().flatten().enumerate() {
                    let Some(name) = m.get("name").and_then(Value::as_str) else {
                        continue;
                    };
                    if names.contains(&name) {
                        continue;
                    }
                    let declared = if names.is_empty() {
                        "the pod declares no volumes".to_string()
                    } else {
                        format!(
                            "the pod declares {}",
                            names
                                .iter()
                                .map(|n| format!("`{n}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    };
                    out.push(RULE.on(
                        t.obj,
                        &format!("{}/{field}/{j}/name", c.pointer()),
                        format!("container `{}` uses volume `{name}`, which is not declared ({declared})", c.name),
                    ));
                }
            }
        }
    }
}
