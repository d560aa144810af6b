use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::model::HandlerKind;

pub const RULE: Rule = Rule {
    id: "route-unknown-handler",
    severity: Severity::Error,
    summary: "A `route_*` handler that routelib 1.6.38 does not define and no library registers.",
    docs: r#"## What it checks
Every `route_<name>{}` call names a handler routelib 1.6.38 registers
(`route_direct`, `route_failover`, `route_zfailover`, `route_allsync`,
`route_allfastest`, `route_split`, `route_ttl`, `route_null`, `route_ratelim`,
`route_random`) or one a library loaded with it registered through
`register_route_handlers`.

## Why it matters
Calling an undefined global fails the config load ("attempt to call a nil
value").

## Example
`route_failover_zone { ... }`, `route_drect { ... }`.

## Fix
Use a defined handler, or load the library that defines it
(`-o proxy_config=routelib:/path/lib.lua`).
"#,
    fix: "Use a handler routelib defines, or load the library that registers it.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        let m = &c.model;
        let known: Vec<String> = crate::proxy::api::REGISTERED
            .iter()
            .map(|s| format!("route_{s}"))
            .chain(m.custom_handlers.iter().map(|h| format!("route_{h}")))
            .collect();
        m.routes(&mut |r| {
            if r.kind == HandlerKind::Unknown {
                let name = format!("route_{}", r.handler);
                let hint = crate::proxy::api::did_you_mean(&name, known.iter().map(String::as_str));
                out.push(c.finding(
                    ctx,
                    &RULE,
                    r.line,
                    format!("{name} is not a routelib 1.6.38 route handler{hint}"),
                ));
            }
        });
    }
}
