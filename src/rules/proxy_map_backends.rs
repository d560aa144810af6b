use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::model::BackendsForm;

pub const RULE: Rule = Rule {
    id: "proxy-map-backends",
    severity: Severity::Warning,
    summary: "A pool's backends are a map, so their order (and every key's placement) is unspecified.",
    docs: r#"## What it checks
`backends` is a Lua list (`{ "a:11211", "b:11211" }`), not a map
(`{ a = "a:11211", b = "b:11211" }`).

## Why it matters
routelib walks the backends with `pairs()`; for a map the order is up to the
Lua table, and jump hash places keys by position. Two proxies (or one after a
reload) can then disagree about where keys live: misses, and stale data when
both copies are written. mclint models the map in sorted key order.

## Example
`backends = { ["cache-0"] = "cache-0.cache:11211", ["cache-1"] = "cache-1.cache:11211" }`.

## Fix
Write backends as a list, in a fixed order (StatefulSet ordinal order).
"#,
    fix: "Write backends as a list in a fixed order.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        for p in &c.model.pools {
            if p.backends_form == BackendsForm::Map && p.backends.len() > 1 {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    c.model.find_line(p.line, "backends").or(p.line),
                    format!(
                        "pool {}: backends is a map, so the proxy's order (and where keys live) is unspecified",
                        p.reference()
                    ),
                ));
            }
        }
    }
}
