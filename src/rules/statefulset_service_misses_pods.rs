use super::xref::{self, Selector};
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "statefulset-service-misses-pods",
    severity: Severity::Error,
    summary: "A StatefulSet's governing Service does not select the StatefulSet's pods.",
    docs: r#"## What it checks
That the Service named by a StatefulSet's `spec.serviceName` (when it is in the
rendering, in the same namespace) has a selector that matches the
StatefulSet's pod template labels.

## Why it matters
Per-pod DNS names (`<pod>.<service>.<namespace>.svc`) exist only for pods the
governing Service selects. With a selector that misses the pods (or none at
all), the names never resolve: proxies configured with the cache pods' names
find no backends although every pod is running.

## Example
```yaml
kind: Service
metadata: {name: cache}
spec:
  clusterIP: None
  selector: {app.kubernetes.io/component: memcached}
---
kind: StatefulSet
spec:
  serviceName: cache
  template:
    metadata:
      labels: {app.kubernetes.io/component: cache}
```

## Fix
Give the Service the same selector as the StatefulSet's `spec.selector`.
"#,
    fix: "Give the governing Service the same selector as the StatefulSet's `spec.selector`.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (sts, name) in xref::statefulset_service_names(ctx) {
        let Some(template) = xref::pod_template(sts) else {
            continue;
        };
        let Some(svc) = xref::service_in_namespace_of(ctx, sts, name) else {
            continue; // statefulset-service-missing reports this
        };
        match svc.json.pointer("/spec/selector") {
            None | Some(crate::json::Value::Null) => out.push(RULE.on(
                sts,
                "/spec/serviceName",
                format!(
                    "the governing {} has no selector, so it publishes no DNS names for these pods",
                    xref::describe(svc)
                ),
            )),
            Some(v) => {
                let Some(sel) = Selector::from_map(v) else {
                    continue;
                };
                if sel.is_empty() {
                    out.push(RULE.on(
                        sts,
                        "/spec/serviceName",
                        format!(
                            "the governing {} has an empty selector, so it publishes no DNS names for these pods",
                            xref::describe(svc)
                        ),
                    ));
                    continue;
                }
                let unmet = sel.unmet(template.labels);
                if !unmet.is_empty() {
                    out.push(RULE.on(
                        sts,
                        "/spec/serviceName",
                        format!(
                            "the governing {} selects `{}`, which the pod template does not match: {}",
                            xref::describe(svc),
                            sel.describe(),
                            unmet.join(", ")
                        ),
                    ));
                }
            }
        }
    }
}
