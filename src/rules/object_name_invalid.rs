use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "object-name-invalid",
    severity: Severity::Error,
    summary: "An object's name breaks the API server's naming rules for its kind, or a controller's length limit.",
    docs: r#"## What it checks
`metadata.name` of the common built-in kinds, as the API server validates it
(`ValidateObjectMeta` with the kind's name function in kubernetes'
`pkg/apis/*/validation`):

- most kinds: a DNS-1123 subdomain (at most 253 characters of lower-case
  letters, digits, `-` and `.`, starting and ending with a letter or digit);
- `Namespace`: a DNS-1123 label (at most 63 characters, no `.`), and so is
  `metadata.namespace` of every object;
- `Service`: a DNS-1035 label (a DNS-1123 label that starts with a letter);
- `CronJob`: at most 52 characters (the API server refuses more: the Jobs it
  creates append 11 characters);
- `StatefulSet`: at most 52 characters, which the API server accepts but the
  controller cannot use: each revision is labelled
  `controller-revision-hash: <name>-<hash>`, and a label value over 63
  characters makes every pod creation fail.

`metadata.generateName` is checked as the start of such a name (one
trailing `-` allowed). RBAC kinds (whose names may hold `:`) and custom
resources are not checked.

## Why it matters
`helm install` fails on the first object the API server refuses, and a
StatefulSet with an over-long name is created but never gets a pod.

## Example
```yaml
kind: Service
metadata:
  name: 1-memcached        # a Service name must start with a letter
```

## Fix
Shorten or rename the object (in a chart, `fullnameOverride` or the name
template's `trunc`).
"#,
    fix: "Rename the object to fit its kind's naming rule (lower case, digits, '-'; the length limit in the message).",
    check,
    scope: Scope::Document,
};

/// A DNS-1123 label: 1-63 of `[a-z0-9-]`, alphanumeric at both ends.
pub fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A DNS-1123 subdomain: at most 253 characters, dot-separated labels.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    // One pass over the bytes: each label non-empty, of `[a-z0-9-]`, with
    // no '-' next to a dot or at either end.
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 253 {
        return false;
    }
    let mut prev = b'.';
    for &c in b {
        let fits = match c {
            b'.' => prev != b'.' && prev != b'-',
            b'-' => prev != b'.',
            _ => c.is_ascii_lowercase() || c.is_ascii_digit(),
        };
        if !fits {
            return false;
        }
        prev = c;
    }
    prev != b'.' && prev != b'-'
}

/// A DNS-1035 label: a DNS-1123 label that starts with a letter.
pub fn is_dns1035_label(s: &str) -> bool {
    is_dns1123_label(s) && s.starts_with(|c: char| c.is_ascii_lowercase())
}

type NameCheck = fn(&str) -> bool;

/// The rule for a kind's names: `(check, description)`, or `None` when not checked.
fn rule_for(api_version: &str, kind: &str) -> Option<(NameCheck, &'static str)> {
    let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    let known_group = matches!(
        group,
        "" | "apps" | "batch" | "policy" | "autoscaling" | "networking.k8s.io"
    );
    if !known_group {
        return None;
    }
    match kind {
        "Namespace" => Some((
            is_dns1123_label as NameCheck,
            "a DNS-1123 label (at most 63 characters: lower-case letters, digits and '-', starting and ending with a letter or digit)",
        )),
        "Service" => Some((
            is_dns1035_label as NameCheck,
            "a DNS-1035 label (at most 63 characters: lower-case letters, digits and '-', starting with a letter and ending with a letter or digit)",
        )),
        "Pod"
        | "ConfigMap"
        | "Secret"
        | "ServiceAccount"
        | "PersistentVolumeClaim"
        | "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "CronJob"
        | "PodDisruptionBudget"
        | "HorizontalPodAutoscaler"
        | "Ingress"
        | "NetworkPolicy"
        | "IngressClass"
        | "ReplicationController"
        | "PodTemplate"
        | "LimitRange"
        | "ResourceQuota"
        | "Endpoints" => Some((
            is_dns1123_subdomain as NameCheck,
            "a DNS-1123 subdomain (at most 253 characters: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit)",
        )),
        _ => None,
    }
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for obj in &ctx.objects {
        if let Some(ns) = obj
            .json
            .pointer("/metadata/namespace")
            .and_then(crate::json::Value::as_str)
            .filter(|ns| !ns.is_empty() && !is_dns1123_label(ns))
        {
            let shown: String = ns.chars().flat_map(char::escape_debug).take(80).collect();
            out.push(RULE.on(
                obj,
                "/metadata/namespace",
                format!(
                    "namespace `{shown}` is not a DNS-1123 label (at most 63 characters: lower-case letters, digits and '-', starting and ending with a letter or digit)"
                ),
            ));
        }
        let name = &*obj.name;
        if let Some(prefix) = obj
            .json
            .pointer("/metadata/generateName")
            .and_then(crate::json::Value::as_str)
            .filter(|p| !p.is_empty())
            && let Some((valid, what)) = rule_for(&obj.api_version, &obj.kind)
        {
            // The API server checks the prefix as a name, one trailing '-' masked.
            let masked = match prefix.strip_suffix('-') {
                Some(p) => format!("{p}a"),
                None => prefix.to_string(),
            };
            if !valid(&masked) {
                let shown: String = prefix
                    .chars()
                    .flat_map(char::escape_debug)
                    .take(80)
                    .collect();
                out.push(RULE.on(
                    obj,
                    "/metadata/generateName",
                    format!("{} generateName `{shown}` does not start {what}", obj.kind),
                ));
            }
        }
        if name.is_empty() {
            continue; // schema-violation: metadata.name is required
        }
        // Written only into a finding.
        let shown = || -> String { name.chars().flat_map(char::escape_debug).take(80).collect() };
        if let Some((valid, what)) = rule_for(&obj.api_version, &obj.kind)
            && !valid(name)
        {
            out.push(RULE.on(
                obj,
                "/metadata/name",
                format!("{} name `{}` is not {what}", obj.kind, shown()),
            ));
            continue;
        }
        let limit = match (&*obj.kind, &*obj.api_version) {
            ("CronJob", "batch/v1") => Some((
                52,
                "the API server refuses a CronJob name over 52 characters (its Jobs append 11)",
            )),
            ("StatefulSet", "apps/v1") => Some((
                52,
                "the controller labels each revision `controller-revision-hash: <name>-<hash of up to 10 characters>`, and a label value over 63 characters makes every pod creation fail",
            )),
            _ => None,
        };
        if let Some((max, why)) = limit
            && name.len() > max
        {
            out.push(RULE.on(
                obj,
                "/metadata/name",
                format!(
                    "{} name `{}` has {} characters, over {max}: {why}",
                    obj.kind,
                    shown(),
                    name.len()
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_api_server() {
        assert!(is_dns1123_subdomain("cache-0.memcached"));
        assert!(!is_dns1123_subdomain("Cache"));
        assert!(!is_dns1123_subdomain("cache..x"));
        assert!(!is_dns1123_subdomain(&"a".repeat(254)));
        assert!(is_dns1123_label(&"a".repeat(63)));
        assert!(!is_dns1123_label(&"a".repeat(64)));
        assert!(!is_dns1123_label("a.b"));
        assert!(!is_dns1123_label("-a"));
    }

    #[test]
    fn a_subdomain_is_dot_separated_labels() {
        // Every string of up to five of these characters, against the
        // definition: non-empty labels, each a DNS-1123 label.
        let chars = ['a', '0', '-', '.', 'A'];
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..5 {
            last = last
                .iter()
                .flat_map(|s| chars.iter().map(move |c| format!("{s}{c}")))
                .collect();
            all.extend(last.iter().cloned());
        }
        for s in all {
            let defined = !s.is_empty() && s.split('.').all(is_dns1123_label);
            assert_eq!(is_dns1123_subdomain(&s), defined, "{s:?}");
        }
        assert!(is_dns1123_subdomain(&"a".repeat(253)));
    }
}
