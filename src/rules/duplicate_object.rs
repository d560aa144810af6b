use std::collections::HashMap;

use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "duplicate-object",
    severity: Severity::Error,
    summary: "Two objects have the same kind, namespace and name.",
    docs: r#"## What it checks
That no two objects share kind, namespace and name (objects without a
namespace count as `default`, where `kubectl apply` puts them).

## Why it matters
The second silently overwrites the first on apply; Helm refuses the release.

## Example
Two templates both rendering `ConfigMap cache/memcached-proxy`.

## Fix
Rename one of them, or render only one.
"#,
    fix: "Give each object its own name, or render only one of them.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let mut first: HashMap<(String, &str, &str), usize> = HashMap::new();
    for (i, obj) in ctx.objects.iter().enumerate() {
        if obj.name.is_empty() {
            continue;
        }
        let group = obj
            .api_version
            .split('/')
            .rev()
            .nth(1)
            .unwrap_or("")
            .to_string();
        let key = (
            format!("{group}/{}", obj.kind),
            obj.effective_namespace(),
            &*obj.name,
        );
        match first.get(&key) {
            Some(&j) => {
                let other = &ctx.objects[j];
                out.push(RULE.on(
                    obj,
                    "/metadata/name",
                    format!(
                        "{} is defined twice; the first is in {} line {}",
                        obj.reference(),
                        other.doc.source.as_deref().unwrap_or(&other.doc.file),
                        other.doc.line
                    ),
                ));
            }
            None => {
                first.insert(key, i);
            }
        }
    }
}
