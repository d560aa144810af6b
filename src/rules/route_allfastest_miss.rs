use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::model::{HandlerKind, SlotValue};
use crate::proxy::value::Lv;

pub const RULE: Rule = Rule {
    id: "route-allfastest-miss",
    severity: Severity::Warning,
    summary: "route_allfastest over copies without `miss = true` answers with the first reply, a miss included.",
    docs: r#"## What it checks
A `route_allfastest` with two or more children that does not set
`miss = true`.

## Why it matters
routelib 1.6.38's allfastest sends the read to every child and, by default,
returns as soon as one answers without an error: a miss counts. The copies
are there so that any of them can answer, but a copy that restarted (a
rolling update, an OOM kill, a node drain) comes back empty and answers
"miss" as fast as the others answer "hit", so a share of reads misses keys
the other copies hold until the copy is refilled. With `miss = true` the
route waits for the first hit, or for every child when none has the key.
The chart's own `sidecar` and `replicated-sharded` modes set it; with the
real proxy and one of three copies flushed, the reads that missed without it
all hit with it (`tests/chart_claims.rs`).

## Example
`get = route_allfastest { children = "set_copies" }`.

## Fix
`route_allfastest { children = "set_copies", miss = true }`. A true miss then
costs the slowest copy's round trip instead of the fastest's; add
`wait = SECONDS` to bound it.
"#,
    fix: "Add `miss = true` so a read waits for a hit from any copy (and `wait` to bound a true miss).",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        let m = &c.model;
        m.routes(&mut |r| {
            if r.kind != HandlerKind::Builtin
                || r.handler != "allfastest"
                || r.arg("miss").is_some_and(Lv::truthy)
            {
                return;
            }
            let children = match r.slot("children") {
                Some(SlotValue::Many(list, _)) => list.len(),
                Some(_) => 1,
                None => 0,
            };
            if children < 2 {
                return;
            }
            out.push(c.finding(
                ctx,
                &RULE,
                r.line,
                format!(
                    "route_allfastest over {children} children without miss = true returns the first reply even when it is a miss: a copy that restarted empty answers for keys the others hold"
                ),
            ));
        });
    }
}
