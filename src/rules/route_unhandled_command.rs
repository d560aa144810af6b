use super::{Context, Rule};
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
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in crate::proxy::configs(ctx) {
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
