//! routelib configs → the pools and routes that place keys, through the proxy
//! model (`crate::proxy`): the config runs in its sandboxed VM and the model
//! applies routelib's semantics (pool sets, backend strings, options, child
//! resolution).

use std::collections::BTreeSet;

use super::objects::LuaConfig;
use super::remap::{PoolSpec, ProxySpec, RouteSpec};
use crate::proxy::model::{self, MapEntry, ProxyConfig, Route, SlotValue, Target};
use crate::proxy::placement::Placer;
use crate::proxy::{EnvSource, Library, Limits};

/// A config that holds pools or routes, or why it cannot be used.
pub enum Loaded {
    Spec(ProxySpec),
    /// A Lua file with neither (a route handler library, say).
    NotAConfig,
    Failed(String),
}

/// Runs `config`: a `.lua` file given directly after `libs` (`--lib`), with
/// its `dofile`s opening files under its directory; a ConfigMap key alone
/// (diff knows no proxy container that mounts it, so it reaches no file).
pub fn load(config: &LuaConfig, libs: &[Library]) -> Loaded {
    let (libs, open): (&[Library], Box<crate::proxy::Opener>) = match &config.file {
        Some(path) => (libs, Box::new(crate::proxy::files::beside(path))),
        None => (&[], Box::new(crate::proxy::vm::no_files)),
    };
    let cfg = crate::proxy::load_with_files(
        &config.id,
        &config.text,
        libs,
        &EnvSource::Unknown,
        Limits::default(),
        &*open,
    );
    if let Some(f) = &cfg.failure {
        let at = f.line.map(|l| format!(" line {l}")).unwrap_or_default();
        return Loaded::Failed(format!("{}{at}: {}", f.file, f.message));
    }
    if cfg.pools.is_empty() && cfg.routers.is_empty() {
        return Loaded::NotAConfig;
    }
    Loaded::Spec(spec(&cfg))
}

fn spec(cfg: &ProxyConfig) -> ProxySpec {
    let pools = cfg
        .pools
        .iter()
        .map(|p| {
            let placer = Placer::for_pool(p);
            PoolSpec {
                name: p.reference(),
                backends: p.backends.iter().map(|b| b.identity()).collect(),
                unmodeled: placer.as_ref().err().map(ToString::to_string),
                placer: placer.ok(),
            }
        })
        .collect();
    let mut routes = Vec::new();
    for router in &cfg.routers {
        let prefix = if router.tag == "default" {
            String::new()
        } else {
            format!("{}:", router.tag)
        };
        for (key, entry) in &router.map {
            match entry {
                MapEntry::Route(r) => routes.push(route(cfg, format!("{prefix}map.{key}"), r)),
                MapEntry::Commands(cmds, _) => {
                    for (id, r) in cmds {
                        let name = format!("{prefix}map.{key}.{}", model::command_name(*id));
                        routes.push(route(cfg, name, r));
                    }
                }
            }
        }
        for (id, r) in &router.cmap {
            let name = format!("{prefix}cmap.{}", model::command_name(*id));
            routes.push(route(cfg, name, r));
        }
        if let Some(r) = &router.default {
            routes.push(route(cfg, format!("{prefix}default"), r));
        }
    }
    let migrations = crate::proxy::migration::find(cfg)
        .iter()
        .map(|m| (cfg.pools[m.new].reference(), cfg.pools[m.old].reference()))
        .collect();
    ProxySpec {
        pools,
        routes,
        migrations,
    }
}

fn route(cfg: &ProxyConfig, name: String, r: &Route) -> RouteSpec {
    let mut pools = BTreeSet::new();
    r.walk(&mut |r| {
        for slot in &r.slots {
            match &slot.value {
                SlotValue::Single(t) => reached(cfg, t, &mut pools),
                SlotValue::Many(list, _) => {
                    for (_, t) in list {
                        reached(cfg, t, &mut pools);
                    }
                }
            }
        }
    });
    RouteSpec {
        name,
        pools: pools.into_iter().collect(),
    }
}

fn reached(cfg: &ProxyConfig, t: &Target, out: &mut BTreeSet<String>) {
    match t {
        Target::Pool(i) => {
            if let Some(p) = cfg.pools.get(*i) {
                out.insert(p.reference());
            }
        }
        Target::Set(name) => {
            if let Some(set) = cfg.sets.iter().find(|s| &s.name == name) {
                for &i in &set.zones {
                    if let Some(p) = cfg.pools.get(i) {
                        out.insert(p.reference());
                    }
                }
            }
        }
        // Routes below are walked by Route::walk; the internal cache and
        // unresolved names place no keys on a backend.
        Target::Route(_) | Target::Internal | Target::Missing(..) | Target::Invalid(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> ProxySpec {
        match load(
            &LuaConfig {
                id: "t.lua".into(),
                text: text.into(),
                file: None,
            },
            &[],
        ) {
            Loaded::Spec(s) => s,
            Loaded::NotAConfig => panic!("not a config"),
            Loaded::Failed(e) => panic!("{e}"),
        }
    }

    #[test]
    fn reads_pools_sets_seeds_and_routes() {
        let s = load_text(
            r#"
pools {
    main = { backends = { "a:11211", "b:11211 east" } },
    set_copies = {
        x = { options = { seed = "x" }, backends = { "c:1" } },
        y = { backends = { { host = "d", port = 2 } } },
    },
}
routes {
    cmap = { get = route_allfastest { children = "set_copies" } },
    default = route_failover { children = { "main", route_ttl { ttl = 5, child = "set_copies_y" } } },
}
"#,
        );
        let main = s.pool("main").unwrap();
        assert_eq!(main.backends, vec!["a:11211", "b:11211"]);
        let key_hash = |p: &PoolSpec| p.placer.as_ref().unwrap().hash.clone();
        use crate::proxy::placement::KeyHash;
        assert_eq!(key_hash(main), KeyHash::Xxh3(0));
        assert_eq!(
            key_hash(s.pool("set_copies_x").unwrap()),
            KeyHash::Xxh3(crate::proxy::hash::seed_hash(Some("x")))
        );
        assert_eq!(s.pool("set_copies_y").unwrap().backends, vec!["d:2"]);
        let names: Vec<(&str, Vec<&str>)> = s
            .routes
            .iter()
            .map(|r| {
                (
                    r.name.as_str(),
                    r.pools.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                ("cmap.get", vec!["set_copies_x", "set_copies_y"]),
                ("default", vec!["main", "set_copies_y"]),
            ]
        );
    }

    #[test]
    fn libraries_and_broken_configs_are_told_apart() {
        let lib = LuaConfig {
            id: "lib.lua".into(),
            text: "register_route_handlers({ \"ordered\" })\n".into(),
            file: None,
        };
        assert!(matches!(load(&lib, &[]), Loaded::NotAConfig));
        let bad = LuaConfig {
            id: "bad.lua".into(),
            text: "pools {\n  a = { backends = { \"x:1\" } }\n".into(),
            file: None,
        };
        match load(&bad, &[]) {
            Loaded::Failed(e) => assert!(e.starts_with("bad.lua"), "{e}"),
            _ => panic!("expected a failure"),
        }
    }
}
