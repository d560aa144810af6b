use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::eval::describe;
use crate::proxy::model::{SlotValue, Target};

pub const RULE: Rule = Rule {
    id: "route-child-kind",
    severity: Severity::Error,
    summary: "A route's `child` is given a pool set or a list, or its `children` a single pool or route.",
    docs: r#"## What it checks
`child`, `child_a` and `child_b` take one pool (or a zone `set_x_zone`, or a
route); `children` takes a pool set name or a table of pools and routes.

## Why it matters
routelib hands the value to the proxy as is: a set for `child` or a single pool
for `children` makes the proxy fail while building routes.

## Example
`route_direct { child = "set_main" }`, `route_allsync { children = "cache" }`.

## Fix
Name one zone (`set_main_east`) for a child; wrap a single pool in a table
(`children = { "cache" }`) or name the set.
"#,
    fix: "Give child one pool or route, and children a pool set or a table of pools.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    super::proxies::builtin_routes(ctx, &mut |c, r| {
        let m = &c.model;
        for s in &r.slots {
            let line = m.find_line(r.line, &s.arg).or(r.line);
            let plural = s.arg == "children";
            match (&s.value, plural) {
                (SlotValue::Many(_, form), false) if form.names_set() => out.push(c.finding(
                    ctx,
                    &RULE,
                    line,
                    format!("route_{} {} names a pool set; it takes one pool (name a zone: set_<name>_<zone>)", r.handler, s.arg),
                )),
                (SlotValue::Many(..), false) => out.push(c.finding(
                    ctx,
                    &RULE,
                    line,
                    format!("route_{} {} is a table; it takes one pool or route", r.handler, s.arg),
                )),
                (SlotValue::Single(t @ (Target::Pool(_) | Target::Route(_) | Target::Internal)), true) => out.push(c.finding(
                    ctx,
                    &RULE,
                    line,
                    format!(
                        "route_{} children is {}; it takes a pool set name or a table (children = {{ ... }})",
                        r.handler,
                        describe(m, t)
                    ),
                )),
                (SlotValue::Single(Target::Invalid(w)), _) => out.push(c.finding(
                    ctx,
                    &RULE,
                    line,
                    format!("route_{} {} is {w}, not a pool name or route", r.handler, s.arg),
                )),
                (SlotValue::Many(list, _), true) => {
                    for (k, t) in list {
                        if let Target::Invalid(w) = t {
                            out.push(c.finding(ctx, &RULE, line, format!("route_{} children[{k}] is {w}, not a pool name or route", r.handler)));
                        }
                        if let Target::Set(s) = t {
                            out.push(c.finding(ctx, &RULE, line, format!("route_{} children[{k}] names the pool set {s}; name one of its zones", r.handler)));
                        }
                    }
                }
                _ => {}
            }
        }
    });
}
