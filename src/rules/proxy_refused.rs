use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::model::{CMD_ANY_STORAGE, HandlerKind, ProblemKind, is_ttl_command};
use crate::proxy::value::Lv;

pub const RULE: Rule = Rule {
    id: "proxy-refused",
    severity: Severity::Error,
    summary: "routelib or the proxy refuses the config while loading it.",
    docs: r#"## What it checks
The checks routelib 1.6.38 and the proxy make while they build pools and
routes, where no more specific rule applies: a missing `routes{}`, a router
with neither `map`, `cmap` nor `default`, a map or cmap entry that is not a
route, a handler given something other than a table, `route_ratelim` without
`limit` or `fillrate` (or with `stats`, which crashes routelib 1.6.38's
`route_ratelim_conf`), `route_ttl` under a cmap command other than `ms`, `set`,
`add` or `cas`, bad router `conf` (`mode`, `start`, `stop`), a pool set that is
not a table, and handlers added by a library whose own `_conf` check fails.

## Why it matters
The proxy does not start with such a config (or, on reload, keeps the old one).

## Example
`routes { conf = { mode = "anchor", start = "/" }, map = { ... } }` (anchor
needs both `start` and `stop`).

## Fix
Change the config as the message says.
"#,
    fix: "Change the config as the message says; the proxy does not load it as written.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        let m = &c.model;
        for p in &m.problems {
            if matches!(p.kind, ProblemKind::Refused | ProblemKind::CustomConf) {
                out.push(c.finding(ctx, &RULE, p.line, p.message.clone()));
            }
        }
        for (name, line, why) in &m.bad_pools {
            out.push(c.finding(ctx, &RULE, *line, format!("pools entry `{name}`: {why}")));
        }
        let mut ttl_cmds = Vec::new();
        for router in &m.routers {
            for (cmd, r) in router
                .cmap
                .iter()
                .chain(router.map.iter().flat_map(|(_, e)| match e {
                    crate::proxy::model::MapEntry::Commands(c, _) => c.iter().collect::<Vec<_>>(),
                    _ => Vec::new(),
                }))
            {
                r.walk(&mut |x| {
                    if x.kind == HandlerKind::Builtin
                        && x.handler == "ttl"
                        && !is_ttl_command(*cmd)
                        && *cmd != CMD_ANY_STORAGE
                    {
                        ttl_cmds.push((x.line, *cmd));
                    }
                });
            }
        }
        for (line, cmd) in ttl_cmds {
            out.push(c.finding(
                ctx,
                &RULE,
                line,
                format!(
                    "route_ttl under the `{}` command: routelib fails with \"invalid command for route_ttl\" (it handles ms, set, add and cas)",
                    crate::proxy::model::command_name(cmd)
                ),
            ));
        }
        m.routes(&mut |r| {
            if r.kind == HandlerKind::Unknown {
                return;
            }
            if let Some(t) = r.args_not_table {
                out.push(c.finding(ctx, &RULE, r.line, format!("route_{} is given a {t}, not a table of arguments", r.handler)));
            }
            if r.kind == HandlerKind::Builtin && r.handler == "ratelim" {
                for a in ["limit", "fillrate"] {
                    if r.arg(a).is_none() {
                        out.push(c.finding(ctx, &RULE, r.line, format!("must specify {a} to route_ratelim")));
                    }
                }
                if r.arg("stats").is_some_and(Lv::truthy) {
                    out.push(c.finding(
                        ctx,
                        &RULE,
                        r.line,
                        "route_ratelim with stats: routelib 1.6.38's route_ratelim_conf indexes an undefined `ctx` and fails to load",
                    ));
                }
            }
        });
    }
}
