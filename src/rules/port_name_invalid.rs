use crate::json::Value;

use super::xref;
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "port-name-invalid",
    severity: Severity::Error,
    summary: "A container port name is not an IANA service name (at most 15 characters), or a Service port name is invalid or missing.",
    docs: r#"## What it checks
As the API server validates them (`pkg/apis/core/validation`):

- a container port's `name` is an IANA service name: at most 15 characters
  of lower-case letters, digits and `-`, at least one letter, no `-` at
  either end and no `--`;
- a Service port's `name` is a DNS-1123 label (at most 63 characters), and
  every port of a Service with more than one port has a name.

## Why it matters
The API server refuses the whole object; a port name that grew past 15
characters in a template (`memcached-metrics`) is a common slip.

## Example
```yaml
ports:
  - name: memcached-metrics    # 17 characters
    containerPort: 9150
```

## Fix
Shorten the name (and the probes and Service `targetPort`s that refer to it).
"#,
    fix: "Use a port name of at most 15 lower-case letters, digits and '-' (Services: name every port).",
    check,
    scope: Scope::Document,
};

/// An IANA service name as Kubernetes checks it (`IsValidPortName`).
pub fn is_iana_svc_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 15
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

fn shown(s: &str) -> String {
    s.chars().flat_map(char::escape_debug).take(80).collect()
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for t in xref::pod_templates(ctx) {
        for c in t.containers() {
            let ports = c.json.get("ports").and_then(Value::as_array);
            for (j, p) in ports.into_iter().flatten().enumerate() {
                let Some(name) = p.get("name").and_then(Value::as_str) else {
                    continue;
                };
                if !is_iana_svc_name(name) {
                    out.push(RULE.on(
                        t.obj,
                        &format!("{}/ports/{j}/name", c.pointer()),
                        format!(
                            "port name `{}` of container `{}` is not an IANA service name (at most 15 lower-case letters, digits and '-', with a letter, no '-' at the ends or twice in a row); it has {} characters",
                            shown(name),
                            shown(c.name),
                            name.chars().count()
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
            match p.get("name").and_then(Value::as_str) {
                None | Some("") if ports.len() > 1 => out.push(RULE.on(
                    obj,
                    &format!("/spec/ports/{j}"),
                    format!(
                        "Service port {j} has no name; with {} ports every port needs one",
                        ports.len()
                    ),
                )),
                Some(name)
                    if !name.is_empty()
                        && !super::object_name_invalid::is_dns1123_label(name) =>
                {
                    out.push(RULE.on(
                        obj,
                        &format!("/spec/ports/{j}/name"),
                        format!(
                            "Service port name `{}` is not a DNS-1123 label (at most 63 lower-case letters, digits and '-')",
                            shown(name)
                        ),
                    ))
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_service_names() {
        assert!(is_iana_svc_name("memcache"));
        assert!(is_iana_svc_name("proxy-11211"));
        assert!(!is_iana_svc_name("memcached-metrics")); // 17
        assert!(!is_iana_svc_name("11211"));
        assert!(!is_iana_svc_name("a--b"));
        assert!(!is_iana_svc_name("Memcache"));
        assert!(!is_iana_svc_name("-a"));
    }
}
