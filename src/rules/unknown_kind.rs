use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::schema::{self, Lookup};

pub const RULE: Rule = Rule {
    id: "unknown-kind",
    severity: Severity::Info,
    summary: "No schema for this apiVersion and kind (a custom resource, say): it was not validated.",
    docs: r#"## What it checks
Reports each object whose apiVersion and kind have no schema, neither built in
nor in `--schema-dir`; such an object is skipped by `schema-violation`.
Custom resources (a Prometheus `ServiceMonitor`, say) are the usual case. When
the group is a built-in one, the message suggests the nearest known kind, since
then the kind is more likely misspelt.

## Why it matters
A skipped object can hold any mistake; this tells you which objects were not
proven right.

## Example
```yaml
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: memcached}
```

## Fix
Pass `--schema-dir DIR` with the resource's schema as
`DIR/monitoring.coreos.com-v1-servicemonitor.json` (the naming of
`schemas/README.md`), or ignore the rule for such objects.
"#,
    fix: "Give the kind's schema with `--schema-dir` (or ignore this rule for custom resources).",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let Ok(set) = ctx.schemas() else {
        return; // schema-violation reports why
    };
    for obj in &ctx.objects {
        if obj.api_version.is_empty() // api-version-missing
            || set.lookup(&obj.api_version, &obj.kind) != Lookup::Unknown
            || super::api_version_not_served::reported(&obj.api_version, &obj.kind, set.version())
        {
            continue;
        }
        let api = if obj.api_version.is_empty() {
            "(no apiVersion)"
        } else {
            &*obj.api_version
        };
        let message = if schema::is_builtin_group(&obj.api_version) {
            let near = crate::suggest::nearest(&obj.kind, set.known_kinds())
                .filter(|n| *n != obj.kind)
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            format!(
                "no schema for {api} {} in Kubernetes {}: not validated{near}",
                obj.kind,
                set.version()
            )
        } else {
            format!(
                "no schema for {api} {} (a custom resource?): not validated; pass --schema-dir with `{}` to validate it",
                obj.kind,
                schema::file_name(&obj.api_version, &obj.kind)
            )
        };
        out.push(RULE.on(obj, "/kind", message));
    }
}
