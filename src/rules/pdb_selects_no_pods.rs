use super::xref::{self, PodTemplate, Selector};
use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "pdb-selects-no-pods",
    severity: Severity::Warning,
    summary: "A PodDisruptionBudget's selector matches no pod template in its namespace.",
    docs: r#"## What it checks
That every PodDisruptionBudget selects at least one pod template in its own
namespace (`matchLabels` and `matchExpressions` both count). A budget without a
selector selects nothing; with `policy/v1` an empty selector (`{}`) selects
every pod of the namespace, with `policy/v1beta1` it selects nothing. Objects
with no namespace count as `default`.

## Why it matters
A budget that selects nothing protects nothing: a node drain or cluster
upgrade may evict every cache pod at once, emptying the cache, while the
budget's existence suggests otherwise. Nothing warns at apply time.

## Example
```yaml
kind: PodDisruptionBudget
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/component: memcached   # the pods say `component: cache`
```

## Fix
Use the same labels as the workload's `spec.selector`, or remove the budget.
"#,
    fix: "Give the budget the same selector as the workload it protects.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let templates = xref::pod_templates(ctx);
    for pdb in ctx
        .objects
        .iter()
        .filter(|o| o.kind == "PodDisruptionBudget")
    {
        let ns = pdb.effective_namespace();
        let sel = match pdb.json.pointer("/spec/selector") {
            None | Some(crate::json::Value::Null) => {
                out.push(RULE.on(
                    pdb,
                    "/spec",
                    format!(
                        "{} has no `spec.selector`, so it selects no pods and protects nothing",
                        pdb.reference()
                    ),
                ));
                continue;
            }
            Some(v) => match Selector::from_label_selector(v) {
                Some(sel) => sel,
                None => continue, // malformed: the schema rules say why
            },
        };
        if sel.is_empty() {
            if pdb.api_version == "policy/v1beta1" {
                out.push(RULE.on(
                    pdb,
                    "/spec/selector",
                    format!(
                        "{} has an empty selector, which selects no pods in policy/v1beta1",
                        pdb.reference()
                    ),
                ));
            } else if xref::templates_in(ctx, &templates, ns).is_empty() {
                out.push(RULE.on(
                    pdb,
                    "/spec/selector",
                    format!("{} selects every pod of namespace `{ns}`, but the rendering has no pod template there", pdb.reference()),
                ));
            }
            continue;
        }
        if !xref::templates_selected(ctx, &templates, Some(ns), &sel).is_empty() {
            continue;
        }
        let in_ns: Vec<&PodTemplate> = xref::templates_in(ctx, &templates, ns)
            .into_iter()
            .map(|i| &templates[i])
            .collect();

        let mut msg = format!(
            "{} selects pods labelled `{}`, but no pod template in namespace `{ns}` has these labels, so it protects nothing",
            pdb.reference(),
            sel.describe()
        );
        if let Some(other) = xref::templates_selected(ctx, &templates, None, &sel)
            .into_iter()
            .map(|i| &templates[i])
            .find(|t| t.namespace() != ns)
        {
            msg.push_str(&format!(
                "; {} has them, but a budget covers only pods of its own namespace",
                other.obj.reference()
            ));
        } else if let Some(near) = xref::nearest_miss(&sel, &in_ns) {
            msg.push_str(&format!("; {near}"));
        }
        out.push(RULE.on(pdb, "/spec/selector", msg));
    }
}
