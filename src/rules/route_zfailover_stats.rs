use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::model::HandlerKind;
use crate::proxy::value::Lv;

pub const RULE: Rule = Rule {
    id: "route-zfailover-stats",
    severity: Severity::Warning,
    summary: "route_zfailover with `stats = true`: its retries counter never counts in 1.6.38.",
    docs: r#"## What it checks
A `route_zfailover` that sets `stats = true` (optionally with `stats_name`).

## Why it matters
routelib registers the counter (`STAT user_<name>_retries` in `stats proxy`)
but the handler only increments it when a global named `stat` is set, and
nothing sets one: the counter stays at 0 however many requests leave the
local zone. Checked with the real 1.6.38 proxy: five reads that all fanned
out left `user_z_retries 0`, while a `route_failover` with `stats = true`
beside it counted its five retries. A dashboard or alert built on the
counter sees a healthy local zone that is not.

## Example
`route_zfailover { children = "set_main", stats = true, stats_name = "z" }`.

## Fix
Watch the local zone another way (the backends' own `get_misses`, or the
proxy's per-backend stats), or count with `route_failover` and an explicit
`local_zone`, whose counter works. Drop `stats` so the dead counter is not
mistaken for a live one.
"#,
    fix: "Drop `stats` on route_zfailover (its counter stays 0 in 1.6.38); watch fan-out another way.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        let m = &c.model;
        m.routes(&mut |r| {
            if r.kind == HandlerKind::Builtin
                && r.handler == "zfailover"
                && r.arg("stats").is_some_and(Lv::truthy)
            {
                let name = match r.arg("stats_name") {
                    Some(Lv::Str(s)) => format!("{s}_retries"),
                    _ => "<route label>_retries".to_string(),
                };
                out.push(c.finding(
                    ctx,
                    &RULE,
                    m.find_line(r.line, "stats").or(r.line),
                    format!(
                        "route_zfailover stats = true: the counter user_{name} is registered but never incremented in memcached 1.6.38, so it reads 0 while requests leave the local zone"
                    ),
                ));
            }
        });
    }
}
