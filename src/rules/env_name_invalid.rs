use crate::json::Value;

use super::xref;
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "env-name-invalid",
    severity: Severity::Error,
    summary: "An environment variable name is not one the API server of the target Kubernetes version accepts.",
    docs: r#"## What it checks
The `name` of every `env` entry of every container, and every `envFrom`
`prefix`, as the API server of the version checked against
(`--kube-version`) validates it:

- before Kubernetes 1.32, a name is letters, digits, `_`, `-` and `.`, not
  starting with a digit (`IsEnvVarName`);
- from 1.32 (relaxed validation, on by default), any printable ASCII
  character but `=`, not empty.

## Why it matters
The API server refuses the whole object. A name built from a key with a
space or a `/` (a ConfigMap key turned into an env var by a template), or a
name that is fine on a new cluster but refused on an older one the chart
still supports, are the usual slips.

## Example
```yaml
env:
  - name: cache/size      # `/` is refused before 1.32
    value: "64"
```

## Fix
Use letters, digits and `_` (the portable spelling) in the name.
"#,
    fix: "Use an environment variable name of letters, digits and '_' (not starting with a digit): it is valid on every Kubernetes version.",
    check,
    scope: Scope::Document,
};

/// The first Kubernetes minor version with relaxed env var names on by default.
const RELAXED_FROM: u32 = 32;

fn strict_ok(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && !b[0].is_ascii_digit()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
}

fn relaxed_ok(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|c| (32..=126).contains(&c) && c != b'=')
}

fn shown(s: &str) -> String {
    s.chars().flat_map(char::escape_debug).take(80).collect()
}

/// The minor version checked against (the newest supported when not given).
fn minor(ctx: &Context) -> u32 {
    crate::schema::resolve_version(ctx.rendering.settings.kube_version.as_deref())
        .ok()
        .and_then(|v| v.split('.').nth(1))
        .and_then(|m| m.parse().ok())
        .unwrap_or(u32::MAX)
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let m = minor(ctx);
    let relaxed = m >= RELAXED_FROM;
    let verdict = |name: &str| -> Option<String> {
        if name.is_empty() {
            return Some("a name is required".into());
        }
        if relaxed {
            (!relaxed_ok(name)).then(|| {
                format!(
                    "Kubernetes 1.{m} takes printable ASCII characters other than '=' in a name"
                )
            })
        } else {
            (!strict_ok(name)).then(|| {
                format!(
                    "Kubernetes 1.{m} takes letters, digits, '_', '-' and '.' in a name, not starting with a digit (any printable character but '=' from 1.{RELAXED_FROM})"
                )
            })
        }
    };
    for t in xref::pod_templates(ctx) {
        for c in t.containers() {
            let env = c.json.get("env").and_then(Value::as_array);
            for (i, e) in env.into_iter().flatten().enumerate() {
                let Some(name) = e.get("name").and_then(Value::as_str) else {
                    continue;
                };
                if let Some(why) = verdict(name) {
                    out.push(RULE.on(
                        t.obj,
                        &format!("{}/env/{i}/name", c.pointer()),
                        format!(
                            "environment variable name `{}` of container `{}` is refused: {why}",
                            shown(name),
                            shown(c.name)
                        ),
                    ));
                }
            }
            let from = c.json.get("envFrom").and_then(Value::as_array);
            for (i, e) in from.into_iter().flatten().enumerate() {
                let Some(prefix) = e.get("prefix").and_then(Value::as_str) else {
                    continue;
                };
                if prefix.is_empty() {
                    continue;
                }
                // A prefix is checked as the start of a name.
                let as_name = format!("{prefix}X");
                if let Some(why) = verdict(&as_name) {
                    out.push(RULE.on(
                        t.obj,
                        &format!("{}/envFrom/{i}/prefix", c.pointer()),
                        format!(
                            "envFrom prefix `{}` of container `{}` is refused: {why}",
                            shown(prefix),
                            shown(c.name)
                        ),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_before_and_after_relaxed_validation() {
        assert!(strict_ok("CACHE_SIZE"));
        assert!(strict_ok("cache.size-mb"));
        assert!(!strict_ok("1CACHE"));
        assert!(!strict_ok("cache/size"));
        assert!(!strict_ok("cache size"));
        assert!(relaxed_ok("cache/size"));
        assert!(relaxed_ok("cache size"));
        assert!(!relaxed_ok("a=b"));
        assert!(!relaxed_ok("tab\there"));
        assert!(!relaxed_ok(""));
    }
}
