use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::model::split_set_zone;
use crate::proxy::value::Lv;

pub const RULE: Rule = Rule {
    id: "proxy-set-name",
    severity: Severity::Error,
    summary: "A pool set is not named `set_<letters/digits>`, so routelib reads it as a pool or splits its name wrongly.",
    docs: r#"## What it checks
routelib treats a pools{} entry as a set only when its name starts with
`set_`, and splits a child name with the Lua pattern `^(set_%w+)_(.+)`: set
`set_<letters and digits>`, then `_<zone>`. So a set named `cluster` (no
`set_`) is read as a pool without backends, and a set named `set_main_pools`
can never be named as a whole: `children = "set_main_pools"` means zone `pools`
of set `set_main`.

## Why it matters
The proxy fails to load, or a route resolves to a different set than intended.

## Example
`pools { set_my_cache = { east = {...}, west = {...} } }`.

## Fix
Name sets `set_` plus letters and digits only: `set_mycache`.
"#,
    fix: "Name pool sets `set_` followed by letters and digits only (no further `_`).",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        let m = &c.model;
        for s in &m.sets {
            if let Some((set, zone)) = split_set_zone(&s.name) {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    s.line,
                    format!(
                        "pool set `{}` cannot be named as a whole: routelib splits `{}` into set `{set}` and zone `{zone}`",
                        s.name, s.name
                    ),
                ));
            } else if !s.name[4..]
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric())
            {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    s.line,
                    format!(
                        "pool set `{}`: its zones cannot be named (set_<letters/digits>_<zone>)",
                        s.name
                    ),
                ));
            }
        }
        for p in m.pools.iter().filter(|p| p.set.is_none()) {
            let Lv::Table(t) = &p.conf else { continue };
            if t.get("backends").is_some() {
                continue;
            }
            let zones: Vec<&str> = t
                .str_keys()
                .filter(|(_, v)| v.as_table().is_some_and(|z| z.get("backends").is_some()))
                .map(|(k, _)| k)
                .collect();
            if !zones.is_empty() {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    p.line,
                    format!(
                        "`{}` holds pools ({}) but its name does not start with `set_`, so routelib reads it as one pool without backends",
                        p.name,
                        zones.join(", ")
                    ),
                ));
            }
        }
    }
}
