use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::model::{HandlerKind, SlotValue};
use crate::proxy::value::{Key, Lv};

pub const RULE: Rule = Rule {
    id: "route-zfailover-without-zone",
    severity: Severity::Error,
    summary: "route_zfailover has no local zone, or its zone is not one of its children.",
    docs: r#"## What it checks
`route_zfailover` needs a zone: its `local_zone` argument or the global
`local_zone(...)`. That zone must be a key of its children (a zone of the set).

## Why it matters
Without a zone routelib refuses the config ("route_zfailover must have a
local_zone defined"). With a zone that is not among the children, the near
child is nil and every request through the route fails.

## Example
`local_zone("us-east-1a")` with `set_cache = { east = ..., west = ... }`.

## Fix
Set `local_zone(...)` to one of the set's zone names, or pass `local_zone =`.
"#,
    fix: "Set a local zone that names one of the route's child zones.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        let m = &c.model;
        let global = m.local_zone.as_ref();
        m.routes(&mut |r| {
            if r.kind != HandlerKind::Builtin || r.handler != "zfailover" {
                return;
            }
            let own = r.arg("local_zone").and_then(Lv::as_str);
            let zone = match (own, global) {
                (Some(z), _) => Some(z.to_string()),
                (None, Some(g)) => match &g.value {
                    Some(v) => Some(v.clone()),
                    None => return, // read at run time: cannot tell
                },
                (None, None) => None,
            };
            let Some(zone) = zone else {
                out.push(c.finding(ctx, &RULE, r.line, "route_zfailover must have a local_zone defined (no local_zone argument and no global local_zone())"));
                return;
            };
            if let Some(SlotValue::Many(_, crate::proxy::model::ListForm::List)) = r.slot("children") {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    r.line,
                    format!(
                        "route_zfailover's children are a list, so its local zone `{zone}` is not one of them (routelib looks the zone up by key): every request through it fails; give children = \"set_...\" or a map keyed by zone"
                    ),
                ));
                return;
            }
            if let Some(SlotValue::Many(list, _)) = r.slot("children") {
                let zones: Vec<String> = list.iter().map(|(k, _)| k.to_string()).collect();
                if !list.iter().any(|(k, _)| *k == Key::Str(zone.clone())) {
                    out.push(c.finding(
                        ctx,
                        &RULE,
                        r.line,
                        format!(
                            "route_zfailover's local zone `{zone}` is not one of its children ({}): every request through it fails",
                            zones.join(", ")
                        ),
                    ));
                }
            }
        });
    }
}
