use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::model::{SlotValue, Target};

pub const RULE: Rule = Rule {
    id: "route-unknown-pool",
    severity: Severity::Error,
    summary: "A route's child or children names a pool, pool set or zone that is not defined.",
    docs: r#"## What it checks
Every pool name in `child`, `child_a`, `child_b` and `children` resolves the way
routelib's `get_child` resolves it: `internal`, `set_<name>_<zone>` (a zone of
a pool set), `set_<name>` (a whole set) or a pool.

## Why it matters
routelib only resolves names when each worker thread builds its routes, so the
proxy fails to load (`no pool matching: ...`).

## Example
`route_direct { child = "cahce" }` with a pool named `cache`.

## Fix
Use a defined pool, or define the pool.
"#,
    fix: "Name a pool defined in pools{}, or define it.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        let m = &c.model;
        let names: Vec<String> = m
            .pools
            .iter()
            .map(|p| p.reference())
            .chain(m.sets.iter().map(|s| s.name.clone()))
            .collect();
        m.routes(&mut |r| {
            for s in &r.slots {
                let targets: Vec<&Target> = match &s.value {
                    SlotValue::Single(t) => vec![t],
                    SlotValue::Many(l, _) => l.iter().map(|(_, t)| t).collect(),
                };
                for t in targets {
                    if let Target::Missing(name, why) = t {
                        let hint =
                            crate::proxy::api::did_you_mean(name, names.iter().map(String::as_str));
                        out.push(c.finding(
                            ctx,
                            &RULE,
                            m.find_line(r.line, name).or(r.line),
                            format!("route_{} {} names `{name}`: {why}{hint}", r.handler, s.arg),
                        ));
                    }
                }
            }
        });
    }
}
