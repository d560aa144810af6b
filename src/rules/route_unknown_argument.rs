use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::api::{did_you_mean, handler_args, ignored_args};
use crate::proxy::value::Key;

pub const RULE: Rule = Rule {
    id: "route-unknown-argument",
    severity: Severity::Warning,
    summary: "A route handler is given an argument it does not read (often a misspelling).",
    docs: r#"## What it checks
Every key of a built-in handler's argument table is one the handler reads
(`route_failover`: `children`, `failover_count`, `shuffle`, `miss`, `wait`,
`stats`, `stats_name`, `local_zone`; ...), and none is one the handler
accepts but never uses (`failover_count` of `route_zfailover`).

## Why it matters
routelib ignores unknown keys without a word, so a misspelt option simply does
not apply: `failover_cout = 2` leaves failover at every child. Likewise
route_zfailover stores `failover_count` but never reads it: after a miss in
the local zone it asks every other zone at once, however many there are.

## Example
`route_failover { children = "set_main", failover_cout = 2 }`,
`route_zfailover { children = "set_zones", failover_count = 2 }`.

## Fix
Spell the argument as the handler documents it, or remove it. To bound how
many zones route_zfailover asks, give it a set with fewer zones.
"#,
    fix: "Spell the argument as routelib names it, or remove an argument the handler ignores.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    super::proxies::builtin_routes(ctx, &mut |c, r| {
        let m = &c.model;
        let Some(spec) = handler_args(&r.handler) else {
            return;
        };
        // Keys given instead of a required argument are reported (as an
        // error) by route-missing-argument.
        let instead: Vec<String> = r
            .missing_required()
            .into_iter()
            .filter_map(|m| m.near)
            .collect();
        for (k, _) in &r.args.entries {
            let name = match k {
                Key::Str(s) => s.as_str(),
                _ => {
                    out.push(c.finding(
                        ctx,
                        &RULE,
                        r.line,
                        format!(
                            "route_{} is given a positional value {k}; it takes named arguments",
                            r.handler
                        ),
                    ));
                    continue;
                }
            };
            if let Some((_, why)) = ignored_args(&r.handler).iter().find(|(n, _)| *n == name) {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    m.find_line(r.line, name).or(r.line),
                    format!("route_{} ignores `{name}`: {why}", r.handler),
                ));
                continue;
            }
            if spec.iter().any(|(n, _)| *n == name) || instead.iter().any(|k| k == name) {
                continue;
            }
            let hint = did_you_mean(name, spec.iter().map(|(n, _)| *n));
            let takes: Vec<&str> = spec.iter().map(|(n, _)| *n).collect();
            out.push(c.finding(
                ctx,
                &RULE,
                m.find_line(r.line, name).or(r.line),
                format!(
                    "route_{} has no argument `{name}`{hint} (it takes: {}); routelib ignores it",
                    r.handler,
                    if takes.is_empty() {
                        "none".to_string()
                    } else {
                        takes.join(", ")
                    }
                ),
            ));
        }
    });
}
