use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::model::Dist;
use crate::proxy::placement::{RingMode, ring_options};

pub const RULE: Rule = Rule {
    id: "proxy-ring-unfilled",
    severity: Severity::Error,
    summary: "A `mcp.dist_ring_hash` pool whose ring the 1.6.38 proxy leaves unfilled: keys pile onto one backend or fail.",
    docs: r#"## What it checks
A pool with `dist = mcp.dist_ring_hash` sets `omode` to `ketama`, `twemproxy`
or `evcache`, and, when it sets `obuckets`, a multiple of 4.

## Why it matters
memcached 1.6.38 builds the ring in `proxy_ring_hash.c`. In its `default`
mode (also when `omode` is not given) every point of every backend is written
to the same slot, so the ring is one point and uninitialised memory: with the
real proxy every key went to the last backend, and whatever the allocator
returns decides it otherwise (a key can also find no backend and get an
error). The other modes write four points per MD5 digest, `obuckets / 4`
digests a backend, so an `obuckets` that is not a multiple of 4 leaves the
ring's tail unwritten in the same way. `mclint route` models the unwritten
slots as zeros; the proxy does not promise that.

## Example
`options = { dist = mcp.dist_ring_hash }`, or `omode = "ketama", obuckets = 10`.

## Fix
Name the mode: `omode = "ketama"` to share placement with ketama clients
(libmemcached without the default port: `twemproxy`), and keep `obuckets` a
multiple of 4 (160, the default, is). Or drop `dist` for the proxy's default
jump hash.
"#,
    fix: "Set `omode = \"ketama\"` (or twemproxy/evcache) and an `obuckets` that is a multiple of 4.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        for p in &c.model.pools {
            if p.dist != Dist::Ring {
                continue;
            }
            // A refused omode or obuckets is proxy-option-invalid's finding.
            let Ok((mode, buckets)) = ring_options(&p.effective) else {
                continue;
            };
            let at = |k: &str| c.model.find_line(p.line, k).or(p.line);
            let n = p.backends.len();
            if mode == RingMode::Default {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    at(if p.effective.get("omode").is_some() { "omode" } else { "dist" }),
                    format!(
                        "pool {}: mcp.dist_ring_hash in its default omode fills one point of its {} in memcached 1.6.38: keys do not spread (with the real proxy all went to the last backend); set omode = \"ketama\"",
                        p.reference(),
                        buckets * n as i64
                    ),
                ));
            } else if buckets % 4 != 0 {
                out.push(c.finding(
                    ctx,
                    &RULE,
                    at("obuckets"),
                    format!(
                        "pool {}: obuckets = {buckets} is not a multiple of 4: the {} ring writes {} of its {} points and leaves the rest unset; use {}",
                        p.reference(),
                        mode.name(),
                        buckets / 4 * 4 * n as i64,
                        buckets * n as i64,
                        (buckets / 4 * 4).max(4)
                    ),
                ));
            }
        }
    }
}
