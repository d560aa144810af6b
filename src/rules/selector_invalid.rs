use crate::json::Value;

use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::manifest::Object;

pub const RULE: Rule = Rule {
    id: "selector-invalid",
    severity: Severity::Error,
    summary: "A label selector is malformed: an expression's values do not fit its operator, or a workload's selector selects everything.",
    docs: r#"## What it checks
Label selectors (`selector` of Deployments, StatefulSets, DaemonSets,
ReplicaSets, Jobs and PodDisruptionBudgets; pod and namespace selectors of
NetworkPolicies), as the API server validates them (apimachinery's
`ValidateLabelSelector`):

- a `matchExpressions` entry with `In` or `NotIn` has at least one value;
  one with `Exists` or `DoesNotExist` has none;
- an `apps/v1` workload's selector is not empty (the API server answers
  "empty selector is invalid for deployment").

## Why it matters
The API server refuses the whole object. A values file that sets
`values: []` for an `In` expression, or a chart that renders an empty
`matchLabels` when a label value is missing, are the usual causes.

## Example
```yaml
selector:
  matchExpressions:
    - key: tier
      operator: In
      values: []
```

## Fix
Give `In`/`NotIn` their values, drop `values` from `Exists`/`DoesNotExist`,
and select the pods by at least one label.
"#,
    fix: "Give In/NotIn expressions values, Exists/DoesNotExist none, and workload selectors at least one label.",
    check,
    scope: Scope::Document,
};

fn check_selector(obj: &Object, pointer: &str, out: &mut Vec<Finding>) {
    let Some(sel) = obj.json.pointer(pointer).filter(|v| v.is_object()) else {
        return;
    };
    let exprs = sel.get("matchExpressions").and_then(Value::as_array);
    for (i, e) in exprs.into_iter().flatten().enumerate() {
        let op = e.get("operator").and_then(Value::as_str).unwrap_or("");
        let n = e
            .get("values")
            .and_then(Value::as_array)
            .map_or(0, <[_]>::len);
        let key = e.get("key").and_then(Value::as_str).unwrap_or("?");
        let msg = match op {
            "In" | "NotIn" if n == 0 => Some(format!(
                "selector expression {i} (`{key}` {op}) has no values; {op} needs at least one"
            )),
            "Exists" | "DoesNotExist" if n > 0 => Some(format!(
                "selector expression {i} (`{key}` {op}) has {n} value(s); {op} takes none"
            )),
            _ => None,
        };
        if let Some(m) = msg {
            out.push(RULE.on(obj, &format!("{pointer}/matchExpressions/{i}"), m));
        }
    }
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for obj in &ctx.objects {
        match &*obj.kind {
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => {
                check_selector(obj, "/spec/selector", out);
                let sel = obj.json.pointer("/spec/selector");
                let labels = sel
                    .and_then(|s| s.get("matchLabels"))
                    .and_then(Value::as_object)
                    .map_or(0, |m| m.len());
                let exprs = sel
                    .and_then(|s| s.get("matchExpressions"))
                    .and_then(Value::as_array)
                    .map_or(0, <[_]>::len);
                if obj.api_version == "apps/v1"
                    && sel.is_some_and(Value::is_object)
                    && labels + exprs == 0
                {
                    out.push(RULE.on(
                        obj,
                        "/spec/selector",
                        format!(
                            "the {} selector is empty; apps/v1 workloads must select their pods by at least one label",
                            obj.kind
                        ),
                    ));
                }
            }
            "Job" | "PodDisruptionBudget" => check_selector(obj, "/spec/selector", out),
            "NetworkPolicy" => {
                check_selector(obj, "/spec/podSelector", out);
                for dir in ["ingress", "egress"] {
                    let peers = if dir == "ingress" { "from" } else { "to" };
                    let rules = obj
                        .json
                        .pointer(&format!("/spec/{dir}"))
                        .and_then(Value::as_array);
                    for (i, r) in rules.into_iter().flatten().enumerate() {
                        let list = r.get(peers).and_then(Value::as_array);
                        for (j, _) in list.into_iter().flatten().enumerate() {
                            for sel in ["podSelector", "namespaceSelector"] {
                                check_selector(
                                    obj,
                                    &format!("/spec/{dir}/{i}/{peers}/{j}/{sel}"),
                                    out,
                                );
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
}
