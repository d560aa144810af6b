use crate::json::Value;

use super::object_name_invalid::is_dns1123_subdomain;
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::manifest::Object;

pub const RULE: Rule = Rule {
    id: "label-invalid",
    severity: Severity::Error,
    summary: "A label key or value, or a selector's, is not what the API server accepts.",
    docs: r#"## What it checks
Label keys and values as the API server validates them (apimachinery's
`ValidateLabels`), in `metadata.labels` of every object, in the labels of pod
templates (`spec.template.metadata.labels`, a CronJob's job template), in
`selector.matchLabels` and `matchExpressions` keys of workloads and
PodDisruptionBudgets, and in a Service's `spec.selector`:

- a key is a name of at most 63 characters (letters, digits, `-`, `_`, `.`,
  beginning and ending with a letter or digit), optionally after a prefix
  that is a DNS-1123 subdomain of at most 253 characters and a `/`;
- a value is empty, or at most 63 characters of the same alphabet, beginning
  and ending with a letter or digit.

## Why it matters
The API server refuses the whole object. A value built from a version
(`1.6.38+build.5`), a chart name with a release suffix that grew past 63
characters, or a URL in a label are the usual slips.

## Example
```yaml
metadata:
  labels:
    app.kubernetes.io/version: 1.6.38+build.5   # `+` is not allowed
```

## Fix
Shorten or rewrite the key or value; put free text in an annotation.
"#,
    fix: "Use label keys and values of at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit (free text belongs in annotations).",
    check,
    scope: Scope::Document,
};

const MAX_NAME: usize = 63;

/// The name part of a key, or a value: letters, digits, `-`, `_`, `.`,
/// beginning and ending with a letter or digit (empty only for values).
fn is_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_NAME
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Why `key` is not a qualified name, if it is not.
pub fn key_problem(key: &str) -> Option<String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix {
        if p.is_empty() {
            return Some("its prefix before `/` is empty".into());
        }
        if p.len() > 253 || !is_dns1123_subdomain(p) {
            return Some(format!(
                "its prefix `{}` is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', at most 253 characters)",
                shown(p)
            ));
        }
    }
    if name.is_empty() {
        return Some("its name part is empty".into());
    }
    if name.chars().count() > MAX_NAME {
        return Some(format!(
            "its name part has {} characters, more than 63",
            name.chars().count()
        ));
    }
    (!is_label_name(name)).then(|| {
        "its name part may hold only letters, digits, '-', '_' and '.', and must begin and end with a letter or digit".into()
    })
}

/// Why `value` is not a label value, if it is not.
pub fn value_problem(value: &str) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    if value.chars().count() > MAX_NAME {
        return Some(format!(
            "it has {} characters, more than 63",
            value.chars().count()
        ));
    }
    (!is_label_name(value)).then(|| {
        "it may hold only letters, digits, '-', '_' and '.', and must begin and end with a letter or digit".into()
    })
}

fn shown(s: &str) -> String {
    s.chars().flat_map(char::escape_debug).take(80).collect()
}

/// JSON pointer token.
fn token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Checks a map of labels (or a selector's `matchLabels`) at `pointer`.
/// Checks the labels of `map` (at the pointer `at` makes: written only for
/// a finding).
fn check_map(
    obj: &Object,
    map: Option<&Value>,
    at: impl Fn() -> String,
    what: &str,
    out: &mut Vec<Finding>,
) {
    let Some(map) = map.and_then(Value::as_object) else {
        return;
    };
    for (k, v) in map {
        let at = || format!("{}/{}", at(), token(k));
        if let Some(why) = key_problem(k) {
            out.push(RULE.on(
                obj,
                &at(),
                format!("{what} key `{}` is not a valid label key: {why}", shown(k)),
            ));
        }
        if let Some(why) = v.as_str().and_then(value_problem) {
            out.push(RULE.on(
                obj,
                &at(),
                format!(
                    "{what} `{}` has the value `{}`, which is not a valid label value: {why}",
                    shown(k),
                    shown(v.as_str().unwrap_or_default())
                ),
            ));
        }
    }
}

/// Checks the keys of `list`, the `matchExpressions` of the selector at
/// `selector`.
fn check_expressions(obj: &Object, list: Option<&Value>, selector: &str, out: &mut Vec<Finding>) {
    let Some(list) = list.and_then(Value::as_array) else {
        return;
    };
    for (i, e) in list.iter().enumerate() {
        let Some(k) = e.get("key").and_then(Value::as_str) else {
            continue;
        };
        if let Some(why) = key_problem(k) {
            out.push(RULE.on(
                obj,
                &format!("{selector}/matchExpressions/{i}/key"),
                format!(
                    "selector expression key `{}` is not a valid label key: {why}",
                    shown(k)
                ),
            ));
        }
    }
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for obj in &ctx.objects {
        let labels = obj.json.get("metadata").and_then(|m| m.get("labels"));
        check_map(obj, labels, || "/metadata/labels".into(), "label", out);
        if let Some(p) = crate::k8s::pod_metadata_pointer(&obj.kind).filter(|_| obj.kind != "Pod") {
            let labels = obj.json.pointer(p).and_then(|m| m.get("labels"));
            check_map(
                obj,
                labels,
                || format!("{p}/labels"),
                "pod template label",
                out,
            );
        }
        let selector = match &*obj.kind {
            "Service" => {
                let sel = obj.json.get("spec").and_then(|s| s.get("selector"));
                check_map(
                    obj,
                    sel,
                    || "/spec/selector".into(),
                    "Service selector",
                    out,
                );
                None
            }
            "CronJob" => Some("/spec/jobTemplate/spec/selector"),
            _ => Some("/spec/selector"),
        };
        if let Some(sel) = selector
            && let Some(v) = obj.json.pointer(sel).filter(|v| v.is_object())
        {
            let at = || format!("{sel}/matchLabels");
            check_map(obj, v.get("matchLabels"), at, "selector", out);
            check_expressions(obj, v.get("matchExpressions"), sel, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_as_the_api_server_reads_them() {
        for ok in [
            "app",
            "app.kubernetes.io/name",
            "a_b.c-d",
            "example.com/x",
            "A1",
        ] {
            assert_eq!(key_problem(ok), None, "{ok}");
        }
        for bad in [
            "-app",
            "app-",
            "a b",
            "/x",
            "Example.com/x",
            "x/",
            &"a".repeat(64),
        ] {
            assert!(key_problem(bad).is_some(), "{bad}");
        }
        for ok in ["", "1.6.38", "cache_0", "v1-2.3"] {
            assert_eq!(value_problem(ok), None, "{ok}");
        }
        for bad in ["1.6.38+build", "-x", "x.", "a/b", &"v".repeat(64)] {
            assert!(value_problem(bad).is_some(), "{bad}");
        }
    }
}
