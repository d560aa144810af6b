use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::model::{CMD_ANY_STORAGE, ProblemKind};

pub const RULE: Rule = Rule {
    id: "route-unknown-command",
    severity: Severity::Error,
    summary: "A cmdmap{} or routes cmap names a command routelib does not know (or `all` in routes cmap).",
    docs: r#"## What it checks
Command names in `cmdmap{}` and in routes' `cmap` are ones routelib maps to
proxy command ids: `get`, `gets`, `gat`, `gats`, `set`, `add`, `cas`,
`append`, `prepend`, `replace`, `incr`, `decr`, `touch`, `delete`, the meta
commands `mg`, `ms`, `md`, `mn`, `ma`, `me`, and `all` (in a `cmdmap{}` only).

## Why it matters
An unknown name fails the load ("unknown command in cmdmap"). `all` in the
routes cmap is accepted by routelib but lies outside the router's command table
in the 1.6.38 proxy, so it never routes anything; `default` is what catches
every other command.

## Example
`cmap = { gte = route_direct { child = "main" } }`.

## Fix
Use a known command name; use `default` for "every other command".
"#,
    fix: "Use a command routelib knows; use `default` to catch every other command.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        let m = &c.model;
        let names: Vec<&str> = crate::proxy::model::COMMANDS
            .iter()
            .map(|(n, _)| *n)
            .chain(["all"])
            .collect();
        for p in m
            .problems
            .iter()
            .filter(|p| p.kind == ProblemKind::UnknownCommand)
        {
            let word = p.message.rsplit(' ').next().unwrap_or("");
            let hint = crate::proxy::api::did_you_mean(word, names.iter().copied());
            out.push(c.finding(ctx, &RULE, p.line, format!("{}{hint}", p.message)));
        }
        for r in &m.routers {
            if r.cmap.iter().any(|(id, _)| *id == CMD_ANY_STORAGE) {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    m.find_line(r.line, "all").or(r.line),
                    "`all` in routes cmap never routes anything in the 1.6.38 proxy (it lies outside the router's command table); use `default`",
                ));
            }
        }
    }
}
