use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::schema::Lookup;

pub const RULE: Rule = Rule {
    id: "api-version-missing",
    severity: Severity::Error,
    summary: "An object has no `apiVersion`; kubectl and Helm refuse it.",
    docs: r#"## What it checks
That every object (a mapping with a `kind`) has a non-empty `apiVersion`.
When the kind is a built-in one with a schema, `schema-violation` reports the
missing field with the object's other mistakes; this rule covers every other
kind (custom resources, misspelt kinds), which would otherwise only get an
`unknown-kind` note.

## Why it matters
`kubectl apply` stops with "apiVersion not set" and `helm install` fails the
whole release, so one broken template blocks every object.

## Example
```yaml
kind: ServiceMonitor        # no apiVersion
metadata: {name: memcached}
```

## Fix
Add the `apiVersion` of the kind (`monitoring.coreos.com/v1`, say).
"#,
    fix: "Add the kind's `apiVersion`.",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let set = ctx.schemas().ok();
    for obj in &ctx.objects {
        if !obj.api_version.is_empty() {
            continue;
        }
        // schema-violation reports it for kinds with a schema.
        if let Some(set) = &set
            && matches!(set.lookup("", &obj.kind), Lookup::Schema(_))
        {
            continue;
        }
        out.push(RULE.on(
            obj,
            "",
            format!(
                "{} `{}` has no apiVersion: kubectl and Helm refuse an object without one",
                obj.kind, obj.name
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::check::{CheckOptions, check};
    use crate::manifest::{Input, InputKind};

    fn ids(yaml: &str) -> Vec<String> {
        let input = Input {
            name: "t.yaml".into(),
            kind: InputKind::Yaml,
            text: yaml.into(),
        };
        check(&[input], &CheckOptions::default())
            .findings
            .iter()
            .map(|f| f.rule.to_string())
            .collect()
    }

    #[test]
    fn a_custom_kind_without_api_version_is_an_error() {
        let got = ids("kind: ServiceMonitor\nmetadata: {name: m}\n");
        assert!(got.contains(&"api-version-missing".to_string()), "{got:?}");
        assert!(!got.contains(&"unknown-kind".to_string()), "{got:?}");
    }

    #[test]
    fn a_builtin_kind_without_api_version_is_left_to_the_schema() {
        let got = ids("kind: ConfigMap\nmetadata: {name: m}\n");
        assert!(got.contains(&"schema-violation".to_string()), "{got:?}");
        assert!(!got.contains(&"api-version-missing".to_string()), "{got:?}");
    }
}
