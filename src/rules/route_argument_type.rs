use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::api::handler_args;
use crate::proxy::value::Lv;

pub const RULE: Rule = Rule {
    id: "route-argument-type",
    severity: Severity::Error,
    summary: "A route handler argument has the wrong type or an impossible value.",
    docs: r#"## What it checks
Each argument of a built-in handler has the type the handler uses: booleans
for `miss`, `shuffle`, `stats`; numbers for `wait`, `limit`, `fillrate`,
`tickrate`; integers for `failover_count` (at least 1) and `ttl`; strings for
`local_zone`, `stats_name`.

## Why it matters
routelib compares with `== true` or does arithmetic on them: `miss = "yes"`
never enables miss-failover, and `failover_count = 0` makes route_failover
answer nothing.

## Example
`route_failover { children = "set_main", miss = "true" }`.

## Fix
Use the type the handler expects.
"#,
    fix: "Give the argument the type the handler expects.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    super::proxies::builtin_routes(ctx, &mut |c, r| {
        let m = &c.model;
        let Some(spec) = handler_args(&r.handler) else {
            return;
        };
        for (name, ty) in spec {
            let Some(v) = r.arg(name) else { continue };
            let line = m.find_line(r.line, name).or(r.line);
            if !ty.accepts(v) {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    line,
                    format!(
                        "route_{} {name} is {}; it must be {}",
                        r.handler,
                        v.show(),
                        ty.describe()
                    ),
                ));
                continue;
            }
            if *name == "failover_count" && v.as_f64().is_some_and(|n| n < 1.0) {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    line,
                    format!(
                        "route_{} failover_count is {}: no child is ever tried",
                        r.handler,
                        v.show()
                    ),
                ));
            }
            if matches!(*name, "limit" | "fillrate" | "tickrate" | "wait" | "ttl")
                && v.as_f64().is_some_and(|n| n < 0.0)
            {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    line,
                    format!("route_{} {name} is negative ({})", r.handler, v.show()),
                ));
            }
            if let (Lv::Str(s), "local_zone") = (v, *name)
                && s.is_empty()
            {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    line,
                    format!("route_{} local_zone is empty", r.handler),
                ));
            }
        }
    });
}
