use crate::json::Value;

use super::xref;
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "configmap-not-rendered",
    severity: Severity::Info,
    summary: "A pod uses a ConfigMap that is not in the rendering (it may be created elsewhere).",
    docs: r#"## What it checks
That every ConfigMap a pod template uses (a `configMap` volume, a `configMap`
source of a projected volume, `envFrom[].configMapRef` and
`env[].valueFrom.configMapKeyRef`) is in the rendering, in the pod's
namespace. References marked `optional: true` and `kube-root-ca.crt` (which
Kubernetes creates in every namespace) are skipped. Objects with no namespace
count as `default`.

This is information, not an error: the ConfigMap may be created by another
release or by hand.

## Why it matters
A pod whose ConfigMap does not exist stays in `ContainerCreating` (volumes) or
`CreateContainerConfigError` (environment) until it appears. For a proxy whose
routes live in a ConfigMap, a misspelt name means no proxy starts.

## Example
```yaml
volumes:
  - name: config
    configMap:
      name: memcached-proxy-config   # the chart renders `memcached-proxy`
```

## Fix
Use the name of the rendered ConfigMap, render it, or mark the reference
`optional: true` when the pod can run without it.
"#,
    fix: "Name a ConfigMap the rendering creates, or make sure the ConfigMap exists before the pods start.",
    check,
    scope: Scope::Set,
};

/// Created by Kubernetes in every namespace.
const BUILT_IN: &[&str] = &["kube-root-ca.crt"];

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for t in xref::pod_templates(ctx) {
        for (i, vname, v) in t.volumes() {
            if let Some(cm) = v.get("configMap") {
                check_ref(
                    ctx,
                    &t,
                    cm,
                    || format!("{}/volumes/{i}/configMap", t.spec_pointer),
                    || format!("volume `{vname}`"),
                    out,
                );
            }
            let sources = v.pointer("/projected/sources").and_then(Value::as_array);
            for (j, src) in sources.into_iter().flatten().enumerate() {
                if let Some(cm) = src.get("configMap") {
                    check_ref(
                        ctx,
                        &t,
                        cm,
                        || {
                            format!(
                                "{}/volumes/{i}/projected/sources/{j}/configMap",
                                t.spec_pointer
                            )
                        },
                        || format!("projected volume `{vname}`"),
                        out,
                    );
                }
            }
        }
        for c in t.containers() {
            let envfrom = c.json.get("envFrom").and_then(Value::as_array);
            for (j, e) in envfrom.into_iter().flatten().enumerate() {
                if let Some(cm) = e.get("configMapRef") {
                    check_ref(
                        ctx,
                        &t,
                        cm,
                        || format!("{}/envFrom/{j}/configMapRef", c.pointer()),
                        || format!("`envFrom` of container `{}`", c.name),
                        out,
                    );
                }
            }
            let env = c.json.get("env").and_then(Value::as_array);
            for (j, e) in env.into_iter().flatten().enumerate() {
                if let Some(cm) = e.pointer("/valueFrom/configMapKeyRef") {
                    let var = e.get("name").and_then(Value::as_str).unwrap_or("?");
                    check_ref(
                        ctx,
                        &t,
                        cm,
                        || format!("{}/env/{j}/valueFrom/configMapKeyRef", c.pointer()),
                        || format!("variable `{var}` of container `{}`", c.name),
                        out,
                    );
                }
            }
        }
    }
}

/// A reference `cm` (`{name, optional}`) of `t`'s pods to a ConfigMap, at
/// `base`, described by `what`: a finding when it is not optional and the
/// namespace renders no ConfigMap of that name. The pointer and the
/// description are built only for a finding.
fn check_ref(
    ctx: &Context,
    t: &xref::PodTemplate,
    cm: &Value,
    base: impl FnOnce() -> String,
    what: impl FnOnce() -> String,
    out: &mut Vec<Finding>,
) {
    if cm.get("optional").and_then(Value::as_bool) == Some(true) {
        return;
    }
    let Some(name) = cm
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    else {
        return;
    };
    let ns = t.namespace();
    if BUILT_IN.contains(&name) || xref::object_named(ctx, "ConfigMap", ns, name).is_some() {
        return;
    }
    let mut msg = format!(
        "{} of {} uses ConfigMap `{name}`, which is not in the rendering (namespace `{ns}`); the pod does not start until it exists",
        what(),
        t.obj.reference()
    );
    if let Some(other) = xref::object_named_anywhere(ctx, "ConfigMap", name) {
        msg.push_str(&format!(
            "; {} is rendered, but pods use ConfigMaps of their own namespace only",
            other.reference()
        ));
    }
    out.push(RULE.on(t.obj, &format!("{}/name", base()), msg));
}
