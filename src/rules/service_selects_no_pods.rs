use super::xref::{self, PodTemplate};
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "service-selects-no-pods",
    severity: Severity::Error,
    summary: "A Service's selector matches no pod template in its namespace.",
    docs: r#"## What it checks
That every Service with a `spec.selector` selects at least one pod template
(of a Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController,
Job, CronJob or bare Pod) in the Service's own namespace. Services without a
selector (endpoints managed by hand) and `ExternalName` Services are skipped.
Objects with no namespace count as `default`.

## Why it matters
A Service selects pods only in its own namespace and only when every label of
its selector is on the pod. A selector that matches nothing gives the Service
no endpoints: clients resolve the name and then get connection refused or time
out, and nothing in `kubectl apply` or `helm install` complains.

## Example
```yaml
kind: Service
spec:
  selector:
    app.kubernetes.io/component: proxy   # the pods say `component: memcached-proxy`
```

## Fix
Make the selector a subset of the pod template's labels (usually by using the
same helper template for both), or render the workload into the Service's
namespace. If the pods come from another release, suppress this rule on the
Service with the `mclint.io/ignore` annotation.
"#,
    fix: "Make the Service's selector a subset of the labels of the pod template it should route to, in the same namespace.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let templates = xref::pod_templates(ctx);
    for (svc, sel) in xref::selecting_services(ctx) {
        let ns = svc.effective_namespace();
        if !xref::templates_selected(ctx, &templates, Some(ns), sel).is_empty() {
            continue;
        }
        let in_ns: Vec<&PodTemplate> = xref::templates_in(ctx, &templates, ns)
            .into_iter()
            .map(|i| &templates[i])
            .collect();
        let mut msg = format!(
            "{} selects pods labelled `{}`, but no pod template in namespace `{ns}` has these labels, so it has no endpoints",
            svc.reference(),
            sel.describe()
        );
        if let Some(other) = xref::templates_selected(ctx, &templates, None, sel)
            .into_iter()
            .map(|i| &templates[i])
            .find(|t| t.namespace() != ns)
        {
            msg.push_str(&format!(
                "; {} has them, but a Service selects only pods of its own namespace",
                other.obj.reference()
            ));
        } else if let Some(near) = xref::nearest_miss(sel, &in_ns) {
            msg.push_str(&format!("; {near}"));
        }
        out.push(RULE.on(svc, "/spec/selector", msg));
    }
}
