use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::proxy::Loaded;
use crate::proxy::api::{
    BACKEND_OPTIONS, POOL_KEYS, POOL_OPTIONS, ROUTER_CONF_KEYS, ROUTES_KEYS, SETTINGS, did_you_mean,
};
use crate::proxy::value::{Key, Lv, Table};

pub const RULE: Rule = Rule {
    id: "proxy-unknown-key",
    severity: Severity::Warning,
    summary: "A settings, pool, pool option, backend option or routes key that routelib and the proxy ignore.",
    docs: r#"## What it checks
Keys of `settings{}`, of each pool (`backends`, `options`,
`backend_options`), of pool options (`seed`, `filter`, `filter_conf`, `hash`,
`dist`, `iothread`, `beprefix`), of backend options and backend tables, of
`routes{}` (`map`, `cmap`, `default`, `conf`, `tag`) and of its `conf`.

## Why it matters
routelib ignores unknown keys everywhere, so a misspelt or misplaced option
silently does nothing: `seed` written next to `backends` instead of inside
`options` leaves the pool unseeded.

## Example
`main = { seed = "a", backends = {...} }`, `settings { backend_conect_timeout = 3 }`.

## Fix
Spell the key as documented and put it where it belongs.
"#,
    fix: "Spell the key as routelib documents it, in the table it belongs to.",
    check,
    scope: Scope::Set,
};

fn keys_of(t: &Table) -> impl Iterator<Item = &str> {
    t.entries.iter().filter_map(|(k, _)| match k {
        Key::Str(s) => Some(s.as_str()),
        _ => None,
    })
}

/// Where findings go, and about which config.
struct Out<'a, 'c> {
    ctx: &'a Context<'c>,
    c: &'a Loaded,
    out: &'a mut Vec<Finding>,
}

fn report(
    o: &mut Out,
    t: &Table,
    known: &[&str],
    what: &str,
    from: Option<u32>,
    extra: &dyn Fn(&str) -> String,
) {
    for k in keys_of(t) {
        if known.contains(&k) {
            continue;
        }
        let mut hint = did_you_mean(k, known.iter().copied());
        if hint.is_empty() {
            hint = extra(k);
        }
        o.out.push(o.c.finding(
            o.ctx,
            &RULE,
            o.c.model.find_line(from, k).or(from),
            format!("{what} has no key `{k}`{hint}; it is ignored"),
        ));
    }
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let settings: Vec<&str> = SETTINGS
        .iter()
        .map(|(k, _)| *k)
        .chain(["pool_options", "backend_options"])
        .collect();
    let backend: Vec<&str> = BACKEND_OPTIONS.iter().map(|(k, _)| *k).collect();
    let none = |_: &str| String::new();
    for c in super::proxies::configs(ctx) {
        let m = &c.model;
        let mut o = Out {
            ctx,
            c,
            out: &mut *out,
        };
        if let Some((Lv::Table(s), line)) = &m.settings {
            report(&mut o, s, &settings, "settings{}", *line, &none);
            if let Some(Lv::Table(po)) = s.get("pool_options") {
                report(
                    &mut o,
                    po,
                    POOL_OPTIONS,
                    "settings pool_options",
                    *line,
                    &none,
                );
            }
            if let Some(Lv::Table(bo)) = s.get("backend_options") {
                report(
                    &mut o,
                    bo,
                    &backend,
                    "settings backend_options",
                    *line,
                    &none,
                );
            }
        }
        for p in &m.pools {
            let Lv::Table(t) = &p.conf else { continue };
            let what = format!("pool {}", p.reference());
            let misplaced = |k: &str| {
                if POOL_OPTIONS.contains(&k) {
                    format!("; `{k}` is a pool option: put it in `options = {{ {k} = ... }}`")
                } else if backend.contains(&k) {
                    format!(
                        "; `{k}` is a backend option: put it in `backend_options = {{ {k} = ... }}`"
                    )
                } else {
                    String::new()
                }
            };
            report(&mut o, t, POOL_KEYS, &what, p.line, &misplaced);
            report(
                &mut o,
                &p.options,
                POOL_OPTIONS,
                &format!("{what} options"),
                p.line,
                &none,
            );
            report(
                &mut o,
                &p.backend_options,
                &backend,
                &format!("{what} backend_options"),
                p.line,
                &none,
            );
            if let Some(Lv::Table(bs)) = t.get("backends") {
                for (_, b) in &bs.entries {
                    if let Lv::Table(bt) = b {
                        report(
                            &mut o,
                            bt,
                            &backend,
                            &format!("{what}: a backend table"),
                            p.line,
                            &none,
                        );
                    }
                }
            }
        }
        for r in &m.routers {
            report(&mut o, &r.raw, ROUTES_KEYS, "routes{}", r.line, &none);
            if let Some(Lv::Table(conf)) = r.raw.get("conf") {
                report(&mut o, conf, ROUTER_CONF_KEYS, "routes conf", r.line, &none);
            }
        }
    }
}
