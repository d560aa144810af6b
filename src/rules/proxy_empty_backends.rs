use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::model::BackendsForm;

pub const RULE: Rule = Rule {
    id: "proxy-empty-backends",
    severity: Severity::Error,
    summary: "A pool has no backends (an empty, missing or non-table `backends`).",
    docs: r#"## What it checks
Every pool has a non-empty `backends` list.

## Why it matters
With `backends = {}` the 1.6.38 proxy loads, then crashes on the first request
to the pool (jump hash over zero backends). A missing or non-table `backends`
fails the load.

## Example
`pools { main = { backends = {} } }` (say, rendered with zero replicas).

## Fix
List at least one backend; guard templates against zero replicas.
"#,
    fix: "List at least one backend in every pool.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        for p in &c.model.pools {
            let msg = match p.backends_form {
                BackendsForm::Missing => "has no `backends`: routelib fails to load the config",
                BackendsForm::NotTable => {
                    "has a `backends` that is not a table: routelib fails to load the config"
                }
                _ if p.backends.is_empty() => {
                    "has an empty backends list: the 1.6.38 proxy crashes on the first request to it"
                }
                _ => continue,
            };
            out.push(c.finding(ctx, &RULE, p.line, format!("pool {} {msg}", p.reference())));
        }
    }
}
