use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "yaml-syntax",
    severity: Severity::Error,
    summary: "A document is not valid YAML.",
    docs: r#"## What it checks
That every document of the input parses as YAML. Each document (the text between
`---` lines) is parsed on its own, so one broken document does not hide the
others. Tabs used for indentation, unclosed brackets and quotes, bad
indentation, aliases that expand without bound and nesting deeper than 256
levels are reported here, with the line where the parser stopped.

## Why it matters
`kubectl apply` refuses the whole file, and `helm install` the whole release.

## Example
```yaml
metadata:
	name: memcached   # a tab: YAML allows only spaces for indentation
```

## Fix
Indent with spaces and close every bracket and quote; when the text comes from a
template, look at the template named by the `# Source:` line.
"#,
    fix: "Fix the YAML at the line shown; in a chart, fix the template named by the `# Source:` line.",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for doc in ctx.documents {
        if let Some(e) = doc.error() {
            let mut f = RULE.on_document(
                doc,
                "",
                format!(
                    "invalid YAML: {} (line {}, column {})",
                    e.message, e.line, e.col
                ),
            );
            f.location.line = Some(e.line);
            out.push(f);
        }
    }
}
