use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::model::HandlerKind;
use crate::proxy::value::Lv;

pub const RULE: Rule = Rule {
    id: "route-failover-count-one",
    severity: Severity::Warning,
    summary: "route_failover with failover_count = 1 never fails over.",
    docs: r#"## What it checks
`failover_count` counts the children route_failover tries, including the
first. `failover_count = 1` tries one child only.

## Why it matters
The route looks redundant but is not: when the first child fails the request
fails.

## Example
`route_failover { children = { "a", "b" }, failover_count = 1 }`.

## Fix
Use `failover_count = 2` (or more) for one retry, or route_direct if no
failover is wanted.
"#,
    fix: "Set failover_count to 2 or more (it counts the first child too), or use route_direct.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        let m = &c.model;
        m.routes(&mut |r| {
            if r.kind == HandlerKind::Builtin
                && r.handler == "failover"
                && r.arg("failover_count").and_then(Lv::as_f64) == Some(1.0)
            {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    m.find_line(r.line, "failover_count").or(r.line),
                    "route_failover failover_count = 1 tries only the first child: there is no failover",
                ));
            }
        });
    }
}
