use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::yaml::YamlIssueKind;

pub const RULE: Rule = Rule {
    id: "yaml-duplicate-key",
    severity: Severity::Error,
    summary: "A mapping has the same key twice, or a key that is not a string.",
    docs: r#"## What it checks
That no mapping repeats a key, and that every key is a scalar.

## Why it matters
kubectl and Helm keep the last value of a repeated key silently
(kubernetes/kubernetes#67477, #89303): the earlier value is lost without a
word, and other tools may keep a different one (a second `resources:` block
quietly replacing the first is a classic). The message names the value that
is lost and the line of the one that wins.

## Example
```yaml
resources:
  limits: {memory: 400Mi}
resources:            # replaces the block above
  requests: {memory: 300Mi}
```

## Fix
Merge the two entries into one.
"#,
    fix: "Keep one entry for the key and merge what the two said.",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for doc in ctx.documents {
        for issue in doc.issues() {
            if matches!(
                issue.kind,
                YamlIssueKind::DuplicateKey | YamlIssueKind::NonScalarKey
            ) {
                let mut f = RULE.on_document(doc, &issue.path, issue.message.clone());
                if let Some(Ok(obj)) = crate::manifest::as_object(doc) {
                    f.object = Some(obj.reference());
                }
                f.location.line = Some(issue.line);
                out.push(f);
            }
        }
    }
}
