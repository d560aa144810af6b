use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::api::{ArgTy, BACKEND_OPTIONS, SETTINGS};
use crate::proxy::model::Dist;
use crate::proxy::placement::{PlacementError, ring_options};
use crate::proxy::value::Lv;

pub const RULE: Rule = Rule {
    id: "proxy-option-invalid",
    severity: Severity::Error,
    summary: "A setting, pool option or backend option has a type or value the proxy rejects.",
    docs: r#"## What it checks
The checks `mcp.pool`, `mcp.backend` and the `mcp.*` setting functions make:
`seed`, `filter`, `filter_conf` and `beprefix` are strings, `iothread` a
boolean, `filter` is `stop` or `tags` and needs a `filter_conf` of 2 to 5
characters, `hash` is `mcp.hash_xxhash` or `mcp.dist_ring_hash.hash`, `dist`
is `mcp.dist_jump_hash` or `mcp.dist_ring_hash`; with the ring, `omode` is
`default`, `ketama`, `twemproxy` or `evcache` and `obuckets` a positive
integer; backend `connections` is 1 to 8 and `failurelimit`,
`depthlimit` are not negative; settings have their documented types.

## Why it matters
The proxy raises a Lua error while building pools, so it does not load.

## Example
`options = { seed = 7 }`, `options = { filter = "stop" }` (no filter_conf).

## Fix
Use the type and range the message names.
"#,
    fix: "Use the type and value range the proxy accepts for the option.",
    check,
    scope: Scope::Set,
};

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for c in super::proxies::configs(ctx) {
        let m = &c.model;
        let mut bad = |line: Option<u32>, msg: String| out.push(c.finding(ctx, &RULE, line, msg));
        if let Some((v, line)) = &m.settings {
            match v {
                Lv::Table(s) => {
                    for (k, ty) in SETTINGS {
                        if let Some(v) = s.get(k).filter(|v| !matches!(v, Lv::Nil))
                            && !ty.accepts(v)
                        {
                            bad(
                                m.find_line(*line, k).or(*line),
                                format!(
                                    "settings {k} is {}; it must be {}",
                                    v.show(),
                                    ty.describe()
                                ),
                            );
                        }
                    }
                }
                other => bad(
                    *line,
                    format!("settings{{}} is given {}, not a table", other.show()),
                ),
            }
        }
        for p in &m.pools {
            let at = |k: &str| m.find_line(p.line, k).or(p.line);
            let name = p.reference();
            let o = &p.effective;
            for k in ["seed", "filter", "beprefix"] {
                if let Some(v) = o.get(k).filter(|v| !matches!(v, Lv::Str(_) | Lv::Nil)) {
                    bad(
                        at(k),
                        format!(
                            "pool {name} option {k} is {}; it must be a string",
                            v.show()
                        ),
                    );
                }
            }
            if let Some(v) = o
                .get("iothread")
                .filter(|v| !matches!(v, Lv::Bool(_) | Lv::Nil))
            {
                bad(
                    at("iothread"),
                    format!(
                        "pool {name} option iothread is {}; it must be a boolean",
                        v.show()
                    ),
                );
            }
            if let Some(Lv::Str(f)) = o.get("filter") {
                if f != "stop" && f != "tags" {
                    bad(
                        at("filter"),
                        format!("pool {name}: unknown hash filter \"{f}\" (stop or tags)"),
                    );
                }
                match o.get("filter_conf") {
                    Some(Lv::Str(fc)) if !(2..=5).contains(&fc.len()) => bad(
                        at("filter_conf"),
                        format!(
                            "pool {name}: filter_conf \"{fc}\" must be between 2 and 5 characters"
                        ),
                    ),
                    Some(Lv::Str(_)) => {}
                    _ => bad(
                        at("filter"),
                        format!("pool {name}: hash filter requires a 'filter_conf' string"),
                    ),
                }
            }
            match o.get("hash") {
                None | Some(Lv::Nil) => {}
                Some(Lv::Const(h)) if h == "hash_xxhash" || h == "dist_ring_hash.hash" => {}
                Some(v) => bad(
                    at("hash"),
                    format!(
                        "pool {name} option hash is {}; it must be mcp.hash_xxhash or mcp.dist_ring_hash.hash",
                        v.show()
                    ),
                ),
            }
            match o.get("dist") {
                None | Some(Lv::Nil) => {}
                Some(Lv::Const(d)) if d == "dist_jump_hash" || d == "dist_ring_hash" => {}
                Some(v) => bad(
                    at("dist"),
                    format!(
                        "pool {name} option dist is {}; it must be mcp.dist_jump_hash or mcp.dist_ring_hash",
                        v.show()
                    ),
                ),
            }
            if p.dist == Dist::Ring
                && let Err(PlacementError::RingOption {
                    option: key,
                    message: why,
                }) = ring_options(o)
            {
                bad(at(key), format!("pool {name}: {why}"));
            }
            for b in &p.backends {
                for (k, ty) in BACKEND_OPTIONS {
                    let Some(v) = b.fields.get(k).filter(|v| !matches!(v, Lv::Nil)) else {
                        continue;
                    };
                    let ok = match ty {
                        ArgTy::Str => matches!(v, Lv::Str(_) | Lv::Int(_) | Lv::Num(_)),
                        ArgTy::Bool => true, // lua_toboolean: anything goes
                        ArgTy::Children => matches!(v, Lv::Table(_)),
                        t => t.accepts(v),
                    };
                    if !ok {
                        bad(
                            b.line,
                            format!(
                                "pool {name} backend {}: {k} is {}; it must be {}",
                                b.written,
                                v.show(),
                                ty.describe()
                            ),
                        );
                        continue;
                    }
                    let n = v.as_f64().unwrap_or(0.0);
                    if (k == &"connections" && !(1.0..=8.0).contains(&n))
                        || (matches!(k, &"failurelimit" | &"depthlimit") && n < 0.0)
                    {
                        let range = if k == &"connections" {
                            "1 to 8"
                        } else {
                            "0 or more"
                        };
                        bad(
                            b.line,
                            format!(
                                "pool {name} backend {}: {k} is {}; it must be {range}",
                                b.written,
                                v.show()
                            ),
                        );
                    }
                }
            }
        }
    }
}
