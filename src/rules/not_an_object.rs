use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::manifest::as_object;

pub const RULE: Rule = Rule {
    id: "not-an-object",
    severity: Severity::Error,
    summary: "A document is not a Kubernetes object (a list, a scalar, or no string `kind`).",
    docs: r#"## What it checks
That every non-empty document is a mapping with a string `kind`, and so is
every item of a typed list (`ConfigMapList`, `v1/List`: kubectl unpacks the
items and applies each; mclint checks each item as an object of its own,
located at `/items/N`).

## Why it matters
`kubectl apply` fails on such a document; in rendered charts it usually means a
template printed a stray value or lost its indentation.

## Example
```yaml
- name: memcached     # a list at the top level
---
apiVersion: v1
metadata: {name: cache}   # no kind
```

## Fix
Make the document a mapping with `apiVersion`, `kind` and `metadata.name`, or
remove it.
"#,
    fix: "Give the document `apiVersion`, `kind` and `metadata.name`, or remove it.",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for doc in ctx.documents {
        if let Some(Err(why)) = as_object(doc) {
            let path = if matches!(why, crate::manifest::NotObject::KindNotString(_)) {
                "/kind"
            } else {
                ""
            };
            out.push(RULE.on_document(doc, path, why.to_string()));
        }
        for (at, why) in crate::manifest::list_item_problems(doc) {
            let path = if matches!(why, crate::manifest::NotObject::KindNotString(_)) {
                format!("{at}/kind")
            } else {
                at.clone()
            };
            out.push(RULE.on_document(doc, &path, format!("list item {at}: {why}")));
        }
    }
}
