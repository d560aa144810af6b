use super::xref::{self, Selector};
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "selector-mismatches-template",
    severity: Severity::Error,
    summary: "A workload's selector does not match its own pod template's labels.",
    docs: r#"## What it checks
That the `spec.selector` of a Deployment, StatefulSet, DaemonSet or ReplicaSet
(`matchLabels` and `matchExpressions`), a ReplicationController (a plain map;
when absent it defaults to the template labels) and a Job or CronJob that sets
one, matches the labels of its own pod template. For the `apps/v1` kinds an
empty selector is reported too.

## Why it matters
The API server rejects such a workload (`selector does not match template
labels`), so `helm install` fails halfway through a release. Because the
selector of a Deployment or StatefulSet is immutable, the mismatch often
appears when only the template labels were changed in an upgrade.

## Example
```yaml
kind: StatefulSet
spec:
  selector:
    matchLabels: {app.kubernetes.io/component: cache}
  template:
    metadata:
      labels: {app.kubernetes.io/component: memcached}
```

## Fix
Render the selector and the template labels from the same helper, and keep
the selector a subset of the template labels.
"#,
    fix: "Make the selector a subset of the pod template's labels.",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for obj in &ctx.objects {
        let (pointer, is_map, required) = match &*obj.kind {
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => {
                ("/spec/selector", false, true)
            }
            "ReplicationController" => ("/spec/selector", true, false),
            "Job" => ("/spec/selector", false, false),
            "CronJob" => ("/spec/jobTemplate/spec/selector", false, false),
            _ => continue,
        };
        let Some(template) = xref::pod_template(obj) else {
            continue;
        };
        let Some(value) = obj.json.pointer(pointer).filter(|v| !v.is_null()) else {
            continue; // absent: defaulted, or a schema error reported elsewhere
        };
        let sel = if is_map {
            Selector::from_map(value)
        } else {
            Selector::from_label_selector(value)
        };
        let Some(sel) = sel else { continue };
        if sel.is_empty() {
            if required {
                out.push(RULE.on(
                    obj,
                    pointer,
                    format!(
                        "{} has an empty selector; the API server requires one that matches the pod template's labels",
                        obj.reference()
                    ),
                ));
            }
            continue;
        }
        let unmet = sel.unmet(template.labels);
        if !unmet.is_empty() {
            out.push(RULE.on(
                obj,
                pointer,
                format!(
                    "the selector `{}` does not match the pod template's labels, so the API server rejects {}: {}",
                    sel.describe(),
                    obj.reference(),
                    unmet.join(", ")
                ),
            ));
        }
    }
}
