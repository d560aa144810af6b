use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::yaml::YamlIssueKind;

pub const RULE: Rule = Rule {
    id: "yaml-flow-indentation",
    severity: Severity::Warning,
    summary: "A flow list or mapping continues on lines not indented deeper than its key.",
    docs: r#"## What it checks
That the continuation lines of a flow collection (`[a, b]`, `{k: v}` written
over several lines) are indented deeper than the key that holds it.

## Why it matters
The YAML specification requires it, and strict parsers (and so some editors,
linters and non-Go tools) refuse the file; go-yaml, which kubectl and Helm use,
and PyYAML ignore indentation inside flow collections and read it. mclint reads
it as the cluster's tools do, validates the result, and warns.

## Example
```yaml
    command: [ "/bin/sh",
    "-c", "exec memcached" ]      # at the key's column
```

## Fix
Indent the continuation lines deeper than the key, or write the list in block
style (`- item` per line).
"#,
    fix: "Indent the continuation lines deeper than the key, or use a block list.",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for doc in ctx.documents {
        for issue in doc.issues() {
            if issue.kind == YamlIssueKind::FlowIndentation {
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
