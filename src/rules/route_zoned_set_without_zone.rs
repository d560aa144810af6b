use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::model::{HandlerKind, ListForm, SlotValue};

pub const RULE: Rule = Rule {
    id: "route-zoned-set-without-zone",
    severity: Severity::Warning,
    summary: "route_failover walks a zoned pool set with no local zone at all, so the order it tries zones in is unspecified.",
    docs: r#"## What it checks
`route_failover { children = "set_x" }`, `set_x` keyed by zone name, where
neither the handler's `local_zone` argument nor a global `local_zone(...)` is
set. A set written as an array (`set_x = { {...}, {...} }`) is not reported:
`pairs()` walks an array in index order, so every worker thread tries pool 1
first, then 2, ... (measured with the real 1.6.38 proxy on 16 worker threads
and 32 connections).

## Why it matters
routelib copies the set into a table and walks it with `pairs()`: for keys
that are names, each worker thread may try the zones in a different order, so the "primary" of a key
changes from connection to connection and cross-zone traffic is random.

## Example
`default = route_failover { children = "set_cache" }`.

## Fix
Pass `local_zone = "..."` to route_failover (or use route_zfailover with a
global `local_zone()`), or list children in order: `children = { "set_cache_a", "set_cache_b" }`.
"#,
    fix: "Give route_failover `local_zone = \"...\"`, or list the zones in order.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        let m = &c.model;
        if m.local_zone.is_some() {
            continue; // route-failover-global-zone reports those
        }
        m.routes(&mut |r| {
            if r.kind == HandlerKind::Builtin
                && r.handler == "failover"
                && r.arg("local_zone").is_none()
                && matches!(r.slot("children"), Some(SlotValue::Many(l, ListForm::Set)) if l.len() > 1)
            {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    r.line,
                    "route_failover over a zoned pool set without a local zone: each worker thread tries the zones in its own order",
                ));
            }
        });
    }
}
