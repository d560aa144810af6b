use super::{Context, Rule};
use crate::finding::{Finding, Severity};
use crate::schema::{self, Lookup};

pub const RULE: Rule = Rule {
    id: "api-version-not-served",
    severity: Severity::Error,
    summary: "A built-in kind uses an apiVersion the chosen Kubernetes version does not serve.",
    docs: r#"## What it checks
That each built-in kind (StatefulSet, Ingress, PodDisruptionBudget, …) uses an
apiVersion that the Kubernetes version chosen with `--kube-version` (default:
the newest supported) serves; the message lists the ones it does. Groups that
look like a CustomResourceDefinition's (a dotted name not ending in `.k8s.io`)
are left to `unknown-kind`.

## Why it matters
The API server rejects the object with "no matches for kind"; removed beta
versions (`apps/v1beta1`, `extensions/v1beta1`, `policy/v1beta1`) linger in
old templates and break on upgrade.

## Example
```yaml
apiVersion: apps/v1beta1    # removed; Kubernetes serves StatefulSet as apps/v1
kind: StatefulSet
```

## Fix
Use a served apiVersion (the message lists them) and adapt the fields that
changed between versions.
"#,
    fix: "Use one of the apiVersions the message lists for this kind.",
    check,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let Ok(set) = schema::prepare(ctx.options) else {
        return; // schema-violation reports why
    };
    for obj in &ctx.objects {
        if let Lookup::NotServed { served } = set.lookup(&obj.api_version, &obj.kind) {
            let list = served
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ");
            out.push(RULE.on(
                obj,
                "/apiVersion",
                format!(
                    "Kubernetes {} does not serve {} as `{}`; it serves it as {list}",
                    set.version(),
                    obj.kind,
                    obj.api_version
                ),
            ));
        }
    }
}
