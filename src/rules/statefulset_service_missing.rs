use super::xref;
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "statefulset-service-missing",
    severity: Severity::Error,
    summary: "A StatefulSet's `serviceName` names no headless Service in its namespace.",
    docs: r#"## What it checks
That the Service a StatefulSet names in `spec.serviceName` (its governing
Service) is in the rendering, in the StatefulSet's namespace, and is headless
(`clusterIP: None`). StatefulSets without `serviceName` are skipped. Objects
with no namespace count as `default`.

## Why it matters
The governing Service gives each pod its stable DNS name
(`<pod>.<service>.<namespace>.svc`). The proxy's pools list cache pods by
those names: without the Service, or with a Service that has a cluster IP, the
names do not resolve and every backend is down, although all pods run.

## Example
```yaml
kind: StatefulSet
spec:
  serviceName: cache-headless   # the rendered Service is called `cache`
```

## Fix
Point `serviceName` at the rendered headless Service, or render one with
`clusterIP: None` and that name.
"#,
    fix: "Name a headless Service (`clusterIP: None`) of the same namespace in `spec.serviceName`, or render one.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (sts, name) in xref::statefulset_service_names(ctx) {
        if name.is_empty() {
            continue;
        }
        let ns = sts.effective_namespace();
        match xref::service_in_namespace_of(ctx, sts, name) {
            None => {
                let mut msg = format!(
                    "`serviceName` names Service `{name}`, which is not in namespace `{ns}` of the rendering; the pods get no DNS names"
                );
                if let Some(other) = xref::object_named_anywhere(ctx, "Service", name) {
                    msg.push_str(&format!(
                        " ({} exists, but the governing Service must be in the StatefulSet's namespace)",
                        other.reference()
                    ));
                }
                out.push(RULE.on(sts, "/spec/serviceName", msg));
            }
            Some(svc) => {
                let cluster_ip = svc.json.pointer("/spec/clusterIP").and_then(|v| v.as_str());
                if cluster_ip != Some("None") {
                    let has = match cluster_ip {
                        Some(ip) => format!("`clusterIP: {ip}`"),
                        None => "no `clusterIP: None`".to_string(),
                    };
                    out.push(RULE.on(
                        sts,
                        "/spec/serviceName",
                        format!(
                            "`serviceName` names {}, which is not headless ({has}); the pods get no per-pod DNS names",
                            xref::describe(svc)
                        ),
                    ));
                }
            }
        }
    }
}
