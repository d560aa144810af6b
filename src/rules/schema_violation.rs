use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::schema::Lookup;

pub const RULE: Rule = Rule {
    id: "schema-violation",
    severity: Severity::Error,
    summary: "An object does not match the strict Kubernetes schema of its kind.",
    docs: r#"## What it checks
Every object whose apiVersion and kind have a schema (every kind Kubernetes
defines for the version, alpha and beta apiVersions included:
workloads, Services, RBAC, CustomResourceDefinitions, admission webhooks,
StorageClasses, APIServices, …; plus any schema given with `--schema-dir`) is
validated against the strict schema of the Kubernetes version chosen with
`--kube-version` (1.29 to 1.37; default: the newest). Strict means: unknown
fields are errors, types must match (`replicas: "3"` is a string, not an
integer), int-or-string fields take an integer or a string, resource
quantities must follow the Kubernetes quantity grammar, fields with a closed
set of values take one of them (`imagePullPolicy: always` is an error that
names `Always`, `IfNotPresent`, `Never` and suggests `Always`), and
`apiVersion`, `kind` and `metadata.name` are required. A field set to `null`
counts as unset, as the API server treats it.

## Why it matters
`kubectl apply` and Helm reject many of these outright; worse, older clients
and `--validate=false` silently drop an unknown field such as `livenessProbes`,
so the probe you wrote never exists and nothing tells you.

## Example
```yaml
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: memcached}
spec:
  replicas: "3"                  # must be an integer
  template:
    spec:
      containers:
        - name: memcached
          livenessProbes: {}     # unknown field; did you mean livenessProbe?
          imagePullPolicy: always      # one of Always, IfNotPresent, Never
          resources:
            limits: {memory: 400MB}   # not a quantity: 400Mi or 400M
```

## Fix
Correct the field the message names: fix the spelling (the message suggests
the nearest allowed name), the type, the quantity, or the value (the message
lists the allowed ones).
"#,
    fix: "Correct the named field: its spelling, its type or its value, as the message says.",
    check,
    scope: Scope::Document,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let set = match ctx.schemas() {
        Ok(set) => set,
        Err(e) => {
            if let Some(doc) = ctx.documents.first() {
                out.push(RULE.on_document(doc, "", format!("no schema validation: {e}")));
            }
            return;
        }
    };
    for obj in &ctx.objects {
        let Lookup::Schema(file) = set.lookup(&obj.api_version, &obj.kind) else {
            continue;
        };
        match set.compiled(&file) {
            Ok(compiled) => {
                for v in compiled.validate(obj.json, &obj.kind) {
                    out.push(RULE.on(obj, &v.pointer, v.message));
                }
            }
            Err(e) => out.push(RULE.on(obj, "", e.to_string())),
        }
    }
}
