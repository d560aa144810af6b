use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::model::HandlerKind;

pub const RULE: Rule = Rule {
    id: "route-allasync",
    severity: Severity::Error,
    summary: "route_allasync is not registered in routelib 1.6.38: the config does not load.",
    docs: r#"## What it checks
No route uses `route_allasync`.

## Why it matters
routelib 1.6.38 defines `route_allasync_conf`/`_start` but leaves `allasync`
out of its `register_route_handlers` list, so `route_allasync` is an undefined
global and the config fails to load.

## Example
`default = route_allasync { children = "set_copies" }`.

## Fix
Use route_allsync (waits for all), or route_split for one asynchronous copy;
or register it yourself in a library: `register_route_handlers({ "allasync" })`.
"#,
    fix: "Use route_allsync or route_split, or register allasync in a library loaded with routelib.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        let m = &c.model;
        if m.custom_handlers.iter().any(|h| h == "allasync") {
            continue; // a library registered it
        }
        m.routes(&mut |r| {
            if r.kind == HandlerKind::Builtin && r.handler == "allasync" {
                out.push(c.finding(ctx, &RULE, r.line, "route_allasync is not registered in routelib 1.6.38 (attempt to call a nil value)"));
            }
        });
    }
}
