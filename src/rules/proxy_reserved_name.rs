use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "proxy-reserved-name",
    severity: Severity::Error,
    summary: "A pool is named `internal`, which routelib reserves for the proxy's internal cache.",
    docs: r#"## What it checks
No pools{} entry is named `internal`.

## Why it matters
routelib refuses the config ("pool name 'internal' is reserved"); a child named
`internal` always means the proxy's own internal cache.

## Example
`pools { internal = { backends = { "cache:11211" } } }`.

## Fix
Rename the pool.
"#,
    fix: "Rename the pool; `internal` names the proxy's internal cache.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        for p in c
            .model
            .pools
            .iter()
            .filter(|p| p.set.is_none() && p.name == "internal")
        {
            out.push(c.finding(
                ctx,
                &RULE,
                p.line,
                "pool name 'internal' is reserved, please use another name",
            ));
        }
    }
}
