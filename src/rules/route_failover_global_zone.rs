use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::model::{HandlerKind, ListForm, SlotValue};

pub const RULE: Rule = Rule {
    id: "route-failover-global-zone",
    severity: Severity::Warning,
    summary: "route_failover over a zoned set relies on the global local_zone(), which route_failover ignores.",
    docs: r#"## What it checks
`route_failover { children = "set_x" }` without its own `local_zone` argument
in a config that sets a global `local_zone(...)`/`local_zone_from_env(...)`.

## Why it matters
In routelib 1.6.38 only `route_zfailover` reads the global zone;
`route_failover` uses its `local_zone` argument only. The local zone is not
tried first, and each worker thread orders the zones its own way.

## Example
`local_zone("east")` and `default = route_failover { children = "set_cache" }`.

## Fix
Use `route_zfailover`, or pass `local_zone = "east"` to route_failover.
"#,
    fix: "Use route_zfailover, or pass the zone to route_failover as `local_zone = ...`.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        let m = &c.model;
        let Some(z) = &m.local_zone else { continue };
        m.routes(&mut |r| {
            if r.kind == HandlerKind::Builtin
                && r.handler == "failover"
                && r.arg("local_zone").is_none()
                && matches!(r.slot("children"), Some(SlotValue::Many(l, ListForm::Set)) if l.len() > 1)
            {
                let zone = z.value.clone().unwrap_or_else(|| format!("read from {}", z.arg.clone().unwrap_or_default()));
                out.push(c.finding(
                    ctx,
                    &RULE,
                    r.line,
                    format!(
                        "route_failover ignores the global local zone ({zone}, line {}): it does not try that zone first, and each worker thread orders the zones its own way",
                        z.line.map(|l| l.to_string()).unwrap_or_else(|| "?".into())
                    ),
                ));
            }
        });
    }
}
