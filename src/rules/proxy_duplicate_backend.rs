use std::collections::HashMap;

use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "proxy-duplicate-backend",
    severity: Severity::Warning,
    summary: "A pool lists the same backend (host:port) twice.",
    docs: r#"## What it checks
No `host:port` appears twice in one pool.

## Why it matters
Jump hash gives each position an equal share of keys, so the repeated server
gets twice the keys and memory pressure of the others, and a pool that looks
like N servers has N-1.

## Example
`backends = { "cache-0.cache:11211", "cache-1.cache:11211", "cache-0.cache:11211" }`.

## Fix
List each server once.
"#,
    fix: "List each backend once per pool.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        for p in &c.model.pools {
            let mut seen: HashMap<String, usize> = HashMap::new();
            for (i, b) in p.backends.iter().enumerate() {
                if b.problem.is_some() {
                    continue;
                }
                if let Some(first) = seen.insert(b.address(), i) {
                    out.push(c.finding(
                        ctx,
                        &RULE,
                        b.line,
                        format!(
                            "pool {}: backend {} is listed twice (positions {} and {}), so it takes twice the keys",
                            p.reference(),
                            b.address(),
                            first + 1,
                            i + 1
                        ),
                    ));
                }
            }
        }
    }
}
