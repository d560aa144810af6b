use super::suppression::{IGNORE_ANNOTATION, parse_ignore};
use super::{Context, RULES, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "suppression-unknown-rule",
    severity: Severity::Warning,
    summary: "A `mclint.io/ignore` annotation names a rule that does not exist, so it suppresses nothing.",
    docs: r#"## What it checks
Every id in an object's `mclint.io/ignore` annotation is a rule id that
`mclint rules` lists, or `all`, and the annotation names at least one id.
The annotation's grammar is `ID[, ID...] -- REASON` (ids separated by commas
or spaces; `:` is accepted instead of `--`).

## Why it matters
A misspelt or renamed id suppresses nothing: the finding it was meant to
silence still fails the build, or worse, the annotation lingers after a rule
is renamed and nobody notices that it no longer does what its reason says.

## Example
```yaml
metadata:
  annotations:
    mclint.io/ignore: "memory-limit-far-above-peak -- sized for a later resize"
```
There is no such rule; the rule about oversized limits is
`memory-limit-oversized`.

## Fix
Use the id as `mclint rules` prints it, or remove the annotation when the
finding it silenced is gone.
"#,
    fix: "Name rules by the ids `mclint rules` lists (or `all`), or remove the annotation.",
    check,
    scope: Scope::Document,
};

/// The JSON pointer of the annotation (`/` in the key is `~1`).
const POINTER: &str = "/metadata/annotations/mclint.io~1ignore";

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for obj in &ctx.objects {
        let Some(value) = obj.annotation(IGNORE_ANNOTATION) else {
            continue;
        };
        let parsed = parse_ignore(value);
        if parsed.ids.is_empty() {
            out.push(RULE.on(
                obj,
                POINTER,
                format!(
                    "`{IGNORE_ANNOTATION}: {value:?}` names no rule id, so it suppresses nothing"
                ),
            ));
        }
        for id in parsed.ids {
            if id == "all" || super::find(id).is_some() {
                continue;
            }
            let near = crate::suggest::nearest(id, RULES.iter().map(|r| r.id))
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            out.push(RULE.on(
                obj,
                POINTER,
                format!(
                    "`{IGNORE_ANNOTATION}` names `{id}`, which is not a rule, so it suppresses nothing{near}"
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::check::{CheckOptions, check};
    use crate::manifest::{Input, InputKind};

    fn messages(annotation: &str) -> Vec<String> {
        let text = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    mclint.io/ignore: {annotation:?}\n"
        );
        let input = Input {
            name: Arc::from("in.yaml"),
            kind: InputKind::Yaml,
            text,
        };
        let options = CheckOptions {
            select: vec![super::RULE.id.to_string()],
            ..CheckOptions::default()
        };
        check(&[input], &options)
            .findings
            .into_iter()
            .map(|f| {
                assert_eq!(f.location.line, Some(6));
                f.message.to_string()
            })
            .collect()
    }

    #[test]
    fn unknown_ids_are_reported_with_a_suggestion() {
        let m = messages("proxy-unused-pol, duplicate-object -- kept for the resize");
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains("`proxy-unused-pol`"), "{m:?}");
        assert!(m[0].ends_with("did you mean `proxy-unused-pool`?"), "{m:?}");
        let m = messages("no-such-thing-at-all: reason");
        assert_eq!(m.len(), 1);
        assert!(!m[0].contains("did you mean"), "{m:?}");
        assert!(messages("duplicate-object all: fine").is_empty());
        assert!(messages("-- a reason only")[0].contains("names no rule id"));
    }
}
