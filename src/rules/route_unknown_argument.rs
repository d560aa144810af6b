use super::{Context, Rule};
use crate::finding::{Finding, Severity};
use crate::proxy::lint::{did_you_mean, handler_args, missing_required};
use crate::proxy::model::HandlerKind;
use crate::proxy::vm::Key;

pub const RULE: Rule = Rule {
    id: "route-unknown-argument",
    severity: Severity::Warning,
    summary: "A route handler is given an argument it does not read (often a misspelling).",
    docs: r#"## What it checks
Every key of a built-in handler's argument table is one the handler reads
(`route_failover`: `children`, `failover_count`, `shuffle`, `miss`, `wait`,
`stats`, `stats_name`, `local_zone`; ...).

## Why it matters
routelib ignores unknown keys without a word, so a misspelt option simply does
not apply: `failover_cout = 2` leaves failover at every child.

## Example
`route_failover { children = "set_main", failover_cout = 2 }`.

## Fix
Spell the argument as the handler documents it, or remove it.
"#,
    fix: "Spell the argument as routelib names it, or remove it.",
    check,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in crate::proxy::configs(ctx) {
        let m = &c.model;
        m.routes(&mut |r| {
            if r.kind != HandlerKind::Builtin {
                return;
            }
            let Some(spec) = handler_args(&r.handler) else { return };
            // Keys given instead of a required argument are reported (as an
            // error) by route-missing-argument.
            let instead: Vec<String> = missing_required(r).into_iter().filter_map(|m| m.near).collect();
            for (k, _) in &r.args.entries {
                let name = match k {
                    Key::Str(s) => s.as_str(),
                    _ => {
                        out.push(c.finding(ctx, &RULE, r.line, format!("route_{} is given a positional value {k}; it takes named arguments", r.handler)));
                        continue;
                    }
                };
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
                        if takes.is_empty() { "none".to_string() } else { takes.join(", ") }
                    ),
                ));
            }
        });
    }
}
