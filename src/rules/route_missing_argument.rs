use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::model::{ProxyConfig, Route};

pub const RULE: Rule = Rule {
    id: "route-missing-argument",
    severity: Severity::Error,
    summary: "A route handler lacks the child or children it sends requests to, so the proxy refuses the config.",
    docs: r#"## What it checks
Each built-in handler has the targets routelib 1.6.38 needs to build it:
`child` for `route_direct`, `route_ttl` and `route_ratelim`; `child_a` and
`child_b` for `route_split`; `children` for `route_failover`,
`route_zfailover`, `route_allfastest`, `route_allsync`, `route_allasync` and
`route_random`. When a key given instead looks like a misspelling of the
missing one (`chld`, `childs`, `child` for `children`), the finding names it.

## Why it matters
routelib does not check these while it reads the config; the handler's
`_start` function, run in every worker thread, hands the missing value to
`fgen:new_handle` or walks it with `pairs()`. The proxy then fails with
`Failed to execute mcp_config_routes: invalid argument to new_handle` or
`bad argument #1 to 'for iterator' (table expected, got nil)` and does not
start (or, on reload, keeps its old config).

`route_ttl` without `ttl` is the one case the proxy loads: routelib then
writes nil into the request's TTL token and every write through the route
answers `SERVER_ERROR lua failure` (measured with the real 1.6.38 proxy).

## Example
`routes { default = route_direct { chld = "main" } }`,
`route_failover { failover_count = 2 }`.

## Fix
Give the handler its target: `child = "main"` (a pool name or a route), or
`children = { "a", "b" }` / `children = "set_main"`.
"#,
    fix: "Give the handler the pool or route it sends requests to (`child`, `child_a`/`child_b` or `children`), and route_ttl its `ttl`.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        let m = &c.model;
        m.routes(&mut |r| {
            for miss in r.missing_required() {
                let why = if r.handler == "zfailover" && r.arg("failover_count").is_none() {
                    "routelib's route_zfailover_conf takes its length (\"attempt to get length of a nil value\")"
                } else if miss.arg == "children" {
                    "routelib walks the missing table with pairs() (\"table expected, got nil\")"
                } else {
                    "routelib passes nil to new_handle (\"invalid argument to new_handle\")"
                };
                let (line, near) = given_instead(m, r, miss.near.as_deref(), miss.arg);
                out.push(c.finding(
                    ctx,
                    &RULE,
                    line,
                    format!(
                        "route_{} has no `{}`{near}: {why}, so the proxy refuses the config",
                        r.handler, miss.arg
                    ),
                ));
            }
            if r.kind == crate::proxy::model::HandlerKind::Builtin
                && r.handler == "ttl"
                && r.args_not_table.is_none()
                && r.arg("ttl").is_none()
            {
                let near = r
                    .args
                    .str_keys()
                    .map(|(k, _)| k)
                    .filter(|k| *k != "child" && *k != "ttl")
                    .find(|k| crate::suggest::nearest(k, ["ttl"]).is_some());
                let (line, near) = given_instead(m, r, near, "ttl");
                out.push(c.finding(
                    ctx,
                    &RULE,
                    line,
                    format!(
                        "route_ttl has no `ttl`{near}: the proxy loads the config, but every write through the route answers SERVER_ERROR lua failure"
                    ),
                ));
            }
        });
    }
}

/// Where to report a missing `arg` of `r`, and the note for the message: at
/// the key `near` given instead (if any), else at the handler.
fn given_instead(
    m: &ProxyConfig,
    r: &Route,
    near: Option<&str>,
    arg: &str,
) -> (Option<u32>, String) {
    match near {
        Some(k) => (
            m.find_line(r.line, k).or(r.line),
            format!(" (`{k}` is given instead: did you mean `{arg}`?)"),
        ),
        None => (r.line, String::new()),
    }
}
