use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::eval::is_ttl_route;
use crate::proxy::model::{HandlerKind, SlotValue, Target};

pub const RULE: Rule = Rule {
    id: "route-ttl-shared-request",
    severity: Severity::Error,
    summary: "route_ttl next to other children of a parallel route rewrites the request they share: earlier ones lose the write, later ones get its TTL.",
    docs: r#"## What it checks
A `route_allsync`, `route_allfastest`, `route_allasync` or `route_split`
with a `route_ttl` among its direct children (`child_a` or `child_b` for
split) and any other child.

## Why it matters
These handlers send one request object to all their children, in order, and
`route_ttl` rewrites that object in place before its own child sends it.
Measured with the real memcached 1.6.38 proxy:
- every child enqueued before the `route_ttl` sends a malformed command and
  stores nothing (with `route_split`, `child_a` before a `route_ttl`
  `child_b`: the client's `set` is answered `CLIENT_ERROR bad command line
  format`); a `route_failover` among them takes that error as a failure and
  tries its next child, which stores the value with the rewritten TTL
  (`mclint route` lists that retry's backend among the copies written);
- every child after it stores the value with the rewritten TTL, not the
  client's.

So the write that was meant to reach several places with different TTLs
reaches some of them with the wrong one, and silently misses the others.
`mclint route` shows the copies that are really written.

## Example
`route_allsync { children = { "cluster", route_ttl { ttl = 30, child = "local" } } }`.

## Fix
Send the request to the children one after another, so the TTL rewrite
happens after the others have sent it: a small handler that calls
`rctx:enqueue_and_wait` per child in turn (the chart's `route_ordered`, in
`route_ordered.lua`, does this), with the `route_ttl` child last.
"#,
    fix: "Put the route_ttl child last in a handler that sends to children one after another (like the chart's route_ordered).",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        let m = &c.model;
        m.routes(&mut |r| {
            if r.kind != HandlerKind::Builtin {
                return;
            }
            let children: Vec<&Target> = match r.handler.as_str() {
                "allsync" | "allfastest" | "allasync" => match r.slot("children") {
                    Some(SlotValue::Many(list, _)) => list.iter().map(|(_, t)| t).collect(),
                    _ => return,
                },
                "split" => ["child_a", "child_b"]
                    .iter()
                    .filter_map(|s| match r.slot(s) {
                        Some(SlotValue::Single(t)) => Some(t),
                        _ => None,
                    })
                    .collect(),
                _ => return,
            };
            let Some(at) = children.iter().position(|t| is_ttl_route(t)) else {
                return;
            };
            if children.len() < 2 {
                return;
            }
            let before = at;
            let after = children.len() - at - 1;
            let kids = |n: usize, one: &str, many: &str| {
                if n == 1 {
                    format!("the child {one}")
                } else {
                    format!("the {n} children {many}")
                }
            };
            let lost = kids(
                before,
                "before it sends a malformed command and stores nothing",
                "before it send a malformed command and store nothing",
            );
            let leak = kids(
                after,
                "after it stores writes with its TTL instead of the client's",
                "after it store writes with its TTL instead of the client's",
            );
            let what = match (before, after) {
                (0, _) => leak,
                (_, 0) => lost,
                _ => format!("{lost}, and {leak}"),
            };
            out.push(c.finding(
                ctx,
                &RULE,
                r.line,
                format!(
                    "route_{} hands one request to its children and the route_ttl among them rewrites it in place: {what}",
                    r.handler
                ),
            ));
        });
    }
}
