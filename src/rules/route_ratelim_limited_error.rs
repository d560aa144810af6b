use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::model::HandlerKind;
use crate::proxy::value::Lv;

pub const RULE: Rule = Rule {
    id: "route-ratelim-limited-error",
    severity: Severity::Warning,
    summary: "route_ratelim answers requests over its limit with SERVER_ERROR lua failure, not the empty answer it means to give.",
    docs: r#"## What it checks
`route_ratelim { ... }` without `fail_until_limit = true`.

## Why it matters
In routelib 1.6.38 a request over the limit is meant to get an empty ("null")
answer, but the handler calls its response mutator with the request only
(`null(r)` instead of `null(nres, r)`), which raises a Lua error: the client
gets `SERVER_ERROR lua failure` (measured with the real proxy: a bucket that
is empty answers every get that way). Clients that retry on server errors
then add load where the limiter was meant to shed it.

The token bucket starts full (at `limit`), but a request takes a token only
while more than one is left, so a bucket lets `limit - 1` requests through
before it refills by `fillrate` per `tickrate` milliseconds (measured with the
real proxy: right after start, 999 of 1,100 pipelined sets passed with
`limit = 1000`; `limit = 1` passes nothing). Without `global = true` each
worker thread has its own bucket, so the proxy as a whole passes up to
`threads × (limit - 1)` at once.
`fail_until_limit = true` takes the other branch, which answers correctly
(`END` to a get, `NOT_STORED` to a set) but inverts the limiter.

## Example
`default = route_ratelim { child = "main", limit = 1000, fillrate = 100 }`.

## Fix
Expect `SERVER_ERROR lua failure` for limited requests (and make clients not
retry it at once), or rate-limit in the application until routelib is fixed.
"#,
    fix: "Expect SERVER_ERROR lua failure for requests over the limit, or limit elsewhere.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        c.model.routes(&mut |r| {
            if r.kind == HandlerKind::Builtin
                && r.handler == "ratelim"
                && r.args_not_table.is_none()
                && !matches!(r.arg("fail_until_limit"), Some(Lv::Bool(true)))
            {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    r.line,
                    "route_ratelim: requests over the limit answer SERVER_ERROR lua failure (routelib 1.6.38 calls its null-response mutator wrongly); the bucket starts full and passes limit - 1 requests before refilling",
                ));
            }
        });
    }
}
