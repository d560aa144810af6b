use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::model::{COMMANDS, MapEntry};

pub const RULE: Rule = Rule {
    id: "route-unhandled-command",
    severity: Severity::Warning,
    summary: "Some commands reach no route: the router has no `default` and its cmap (or a map entry) leaves them out.",
    docs: r#"## What it checks
For each router without `default`: which key commands its `cmap` does not
handle (they fail for every key that matches no map prefix), and for each
`cmdmap{}` map entry without `all`, which commands fall back to the cmap.

It also reports a `route_ttl` that commands other than `ms`, `set`, `add`
and `cas` reach (under `default`, a plain map entry or a cmdmap's `all`):
routelib answers those with `SERVER_ERROR invalid command for route_ttl`
(measured with the real 1.6.38 proxy: a `get` through `default = route_ttl {...}`).

## Why it matters
The proxy answers such a request with `SERVER_ERROR lua start failure`.
Clients see errors for, say, `delete` or `touch` while `get`/`set` work.

## Example
`routes { cmap = { get = ..., set = ... } }` and no `default`.

## Fix
Add `default = route_...{}` to routes{}, or route the missing commands.
"#,
    fix: "Add a `default` route, or route the commands listed.",
    check,
    scope: Scope::Set,
};

/// Commands route_ttl handles.
const TTL_COMMANDS: &[&str] = &["ms", "set", "add", "cas"];

/// The lines of the route_ttl handlers in `r`.
fn ttl_routes(r: &crate::proxy::model::Route) -> Vec<Option<u32>> {
    let mut lines = Vec::new();
    r.walk(&mut |r| {
        if r.kind == crate::proxy::model::HandlerKind::Builtin && r.handler == "ttl" {
            lines.push(r.line);
        }
    });
    lines
}

/// route_ttl under a route that other commands than writes reach.
fn ttl_reached(c: &crate::proxy::Loaded, ctx: &Context, out: &mut Vec<Finding>) {
    use crate::proxy::model::{CMD_ANY_STORAGE, command_id};
    for router in &c.model.routers {
        // (where, route, commands that reach it)
        let mut reached: Vec<(String, &crate::proxy::model::Route, Vec<&str>)> = Vec::new();
        if let Some(d) = &router.default {
            let cmds = COMMANDS
                .iter()
                .filter(|(_, id)| !router.cmap.iter().any(|(c, _)| c == id))
                .map(|(n, _)| *n)
                .collect();
            reached.push(("`default`".into(), d, cmds));
        }
        for (id, r) in &router.cmap {
            if *id == CMD_ANY_STORAGE {
                reached.push((
                    "cmap `all`".into(),
                    r,
                    COMMANDS.iter().map(|(n, _)| *n).collect(),
                ));
            }
        }
        for (prefix, e) in &router.map {
            match e {
                MapEntry::Route(r) => reached.push((
                    format!("map entry `{prefix}`"),
                    r,
                    COMMANDS.iter().map(|(n, _)| *n).collect(),
                )),
                MapEntry::Commands(cmds, _) => {
                    if let Some((_, r)) = cmds.iter().find(|(id, _)| *id == CMD_ANY_STORAGE) {
                        let rest = COMMANDS
                            .iter()
                            .filter(|(_, id)| !cmds.iter().any(|(c, _)| c == id))
                            .map(|(n, _)| *n)
                            .collect();
                        reached.push((format!("map entry `{prefix}` `all`"), r, rest));
                    }
                }
            }
        }
        for (place, r, cmds) in reached {
            let bad: Vec<&str> = cmds
                .into_iter()
                .filter(|n| !TTL_COMMANDS.contains(n) && command_id(n).is_some())
                .collect();
            if bad.is_empty() {
                continue;
            }
            for line in ttl_routes(r) {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    line,
                    format!(
                        "route_ttl under {place} handles only ms, set, add and cas: these commands answer SERVER_ERROR invalid command for route_ttl: {}",
                        bad.join(", ")
                    ),
                ));
            }
        }
    }
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        ttl_reached(c, ctx, out);
        let m = &c.model;
        for r in m.routers.iter().filter(|r| r.default.is_none()) {
            let missing: Vec<&str> = COMMANDS
                .iter()
                .filter(|(_, id)| !r.cmap.iter().any(|(c, _)| c == id))
                .map(|(n, _)| *n)
                .collect();
            if missing.is_empty() {
                continue;
            }
            let whom = if r.map.is_empty() {
                "every key"
            } else {
                "keys that match no map prefix"
            };
            out.push(c.finding(
                ctx,
                &RULE,
                r.line,
                format!(
                    "routes{}{} has no default: for {whom}, these commands answer SERVER_ERROR lua start failure: {}",
                    if r.tag == "default" { String::new() } else { format!(" (tag {})", r.tag) },
                    "",
                    missing.join(", ")
                ),
            ));
            for (prefix, e) in &r.map {
                if let MapEntry::Commands(cmds, line) = e {
                    if cmds
                        .iter()
                        .any(|(id, _)| *id == crate::proxy::model::CMD_ANY_STORAGE)
                    {
                        continue;
                    }
                    let lost: Vec<&str> = missing
                        .iter()
                        .copied()
                        .filter(|n| {
                            !cmds
                                .iter()
                                .any(|(id, _)| Some(*id) == crate::proxy::model::command_id(n))
                        })
                        .collect();
                    if !lost.is_empty() {
                        out.push(c.finding(
                            ctx,
                            &RULE,
                            *line,
                            format!("map entry `{prefix}` (a cmdmap without `all`) leaves these commands unrouted: {}", lost.join(", ")),
                        ));
                    }
                }
            }
        }
    }
}
