use std::collections::HashSet;

use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::model::{SlotValue, Target};

pub const RULE: Rule = Rule {
    id: "proxy-unused-pool",
    severity: Severity::Warning,
    summary: "A pool (or every zone of a pool set) is defined but no route uses it.",
    docs: r#"## What it checks
Every pool and pool set in pools{} is reached by some route.

## Why it matters
The proxy still opens connections to every backend of every pool (one per
worker thread) and health-checks them; an unused pool is usually a typo in a
route or a leftover.

## Example
`pools { main = {...}, old = {...} }` with routes that only name `main`.

## Fix
Remove the pool, or route to it.
"#,
    fix: "Remove the pool, or route traffic to it.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        let m = &c.model;
        if m.failure.is_some() || m.routers.is_empty() {
            continue;
        }
        let mut used: HashSet<usize> = HashSet::new();
        m.routes(&mut |r| {
            for s in &r.slots {
                let ts: Vec<&Target> = match &s.value {
                    SlotValue::Single(t) => vec![t],
                    SlotValue::Many(l, _) => l.iter().map(|(_, t)| t).collect(),
                };
                for t in ts {
                    if let Target::Pool(i) = t {
                        used.insert(*i);
                    }
                }
            }
        });
        for (i, p) in m.pools.iter().enumerate() {
            if used.contains(&i) || p.set.is_some() {
                continue;
            }
            out.push(c.finding(
                ctx,
                &RULE,
                p.line,
                format!("pool {} is not used by any route", p.name),
            ));
        }
        for s in &m.sets {
            if s.zones.iter().any(|i| used.contains(i)) {
                continue;
            }
            out.push(c.finding(
                ctx,
                &RULE,
                s.line,
                format!("pool set {} is not used by any route", s.name),
            ));
        }
    }
}
