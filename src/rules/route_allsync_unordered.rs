use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::model::{HandlerKind, ListForm, SlotValue};
use crate::proxy::value::Lv;

pub const RULE: Rule = Rule {
    id: "route-allsync-unordered",
    severity: Severity::Info,
    summary: "route_allsync over a pool set (or a map of children) answers with whichever child each worker thread walks last.",
    docs: r#"## What it checks
`route_allsync { children = "set_x" }` where `set_x` is keyed by zone name,
or `children` given as a map (`{ a = "pool_a", b = "pool_b" }`), with more
than one child. A set written as an array (`set_x = { {...}, {...} }`) is not
reported: `pairs()` walks an array in index order, and with the real 1.6.38
proxy (16 worker threads, 32 connections) every connection answered from the
array's last pool.

## Why it matters
route_allsync sends the request to every child, waits for all of them, and
answers with the result of its last child: an error from an earlier child is
not returned (measured with the real 1.6.38 proxy: with the first of two
copies down every write answers `STORED`, with the last one down the failed
writes answer `SERVER_ERROR`). routelib builds the child list with `pairs()`,
so for a set keyed by name or a map each worker thread has its own order. With one copy
down, the same write is reported as failed on some connections and as stored
on others, and `mclint route --fail` can only give the range.

## Example
`default = route_allsync { children = "set_copies" }`.

## Fix
List the children in a fixed order, the one whose failure should be reported
last: `children = { "set_copies_a", "set_copies_b" }`.
"#,
    fix: "List the children in order (`children = { \"set_x_a\", \"set_x_b\" }`); the last one's answer is returned.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        c.model.routes(&mut |r| {
            if r.kind != HandlerKind::Builtin || r.handler != "allsync" {
                return;
            }
            let Some(SlotValue::Many(list, form)) = r.slot("children") else {
                return;
            };
            if form.is_ordered() || list.len() < 2 {
                return;
            }
            let what = match (form, r.arg("children")) {
                (ListForm::Set, Some(Lv::Str(s))) => format!("the pool set {s}"),
                _ => "a map of children".to_string(),
            };
            out.push(c.finding(
                ctx,
                &RULE,
                r.line,
                format!(
                    "route_allsync over {what}: each worker thread walks its {} children in its own pairs() order and answers with the last one, so whether a write that failed on one child is reported differs between connections",
                    list.len()
                ),
            ));
        });
    }
}
