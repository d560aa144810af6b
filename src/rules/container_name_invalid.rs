use crate::json::Value;

use super::object_name_invalid::is_dns1123_label;
use super::xref;
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "container-name-invalid",
    severity: Severity::Error,
    summary: "A container's or a volume's name is not a DNS-1123 label.",
    docs: r#"## What it checks
In every pod template, the `name` of each container (regular, init and
ephemeral) and of each volume is a DNS-1123 label, as the API server
validates them: at most 63 characters of lower-case letters, digits and
`-`, starting and ending with a letter or digit.

## Why it matters
The API server refuses the whole object. A name built from a value with an
upper-case letter, an underscore or a dot (`cache_exporter`,
`memcached.proxy`) is the usual cause.

## Example
```yaml
containers:
  - name: memcached_exporter   # `_` is not allowed
```

## Fix
Use lower-case letters, digits and `-` (and the same name in `volumeMounts`).
"#,
    fix: "Name containers and volumes with at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit.",
    check,
    scope: Scope::Document,
};

fn shown(s: &str) -> String {
    s.chars().flat_map(char::escape_debug).take(80).collect()
}

const WHAT: &str = "a DNS-1123 label (at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit)";

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for t in xref::pod_templates(ctx) {
        for field in ["initContainers", "containers", "ephemeralContainers"] {
            let list = t.spec.get(field).and_then(Value::as_array);
            for (i, c) in list.into_iter().flatten().enumerate() {
                let Some(name) = c.get("name").and_then(Value::as_str) else {
                    continue;
                };
                if !is_dns1123_label(name) {
                    out.push(RULE.on(
                        t.obj,
                        &format!("{}/{field}/{i}/name", t.spec_pointer),
                        format!("container name `{}` is not {WHAT}", shown(name)),
                    ));
                }
            }
        }
        for (i, name, _) in t.volumes() {
            if !is_dns1123_label(name) {
                out.push(RULE.on(
                    t.obj,
                    &format!("{}/volumes/{i}/name", t.spec_pointer),
                    format!("volume name `{}` is not {WHAT}", shown(name)),
                ));
            }
        }
    }
}
