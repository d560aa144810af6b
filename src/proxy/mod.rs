//! The proxy model: memcached's built-in proxy configured with routelib.
//!
//! A config (a `.lua` file, or a ConfigMap key mounted where a proxy container's
//! `proxy_arg` points) runs in a sandboxed Lua VM ([`vm`]) against mclint's own
//! model of routelib's configuration API; [`model`] turns what it declared into
//! Rust data; [`hash`] and [`eval`] place keys and follow routes without Lua;
//! [`manifest`] finds proxies in rendered manifests; [`route_cmd`] is
//! `mclint route`.

pub mod eval;
pub mod hash;
pub mod lint;
pub mod lines;
pub mod manifest;
pub mod model;
pub mod placement;
pub mod route_cmd;
pub mod vm;

pub use model::ProxyConfig;
pub use vm::{EnvSource, Limits};

/// A library named in `proxy_config` besides routelib (`routelib:/etc/x.lua`).
#[derive(Debug, Clone)]
pub struct Library {
    pub name: String,
    pub text: String,
}

/// Runs a config (after its libraries) and builds its model.
pub fn load(
    name: &str,
    text: &str,
    libs: &[Library],
    env: &EnvSource,
    limits: Limits,
) -> ProxyConfig {
    let chunks: Vec<vm::Chunk> = libs
        .iter()
        .map(|l| vm::Chunk {
            name: &l.name,
            text: &l.text,
        })
        .collect();
    let (declared, failure) = vm::run(vm::Chunk { name, text }, &chunks, env, limits);
    model::build(name, text, declared, failure)
}

use crate::finding::{Finding, ObjectRef};
use crate::rules::{Context, Rule};

/// Where a loaded config came from.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A `.lua` file given directly.
    File(String),
    /// The config of a proxy found in the manifests (index into `Proxies::found`).
    Manifest {
        proxy: usize,
        mounted: manifest::Mounted,
    },
}

/// A config run through the model.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub origin: Origin,
    pub model: ProxyConfig,
}

/// Every proxy and config of one `mclint check` run, loaded once and shared by
/// the rules.
#[derive(Debug, Default)]
pub struct Proxies {
    pub found: Vec<manifest::FoundProxy>,
    pub configs: Vec<Loaded>,
}

/// The proxies of a check run (loaded on first use).
pub fn proxies<'c>(ctx: &'c Context) -> &'c Proxies {
    ctx.proxies.get_or_init(|| {
        let mut p = Proxies {
            found: manifest::find_proxies(&ctx.objects),
            configs: Vec::new(),
        };
        for input in ctx.lua_inputs {
            p.configs.push(Loaded {
                origin: Origin::File(input.name.to_string()),
                model: load(
                    &input.name,
                    &input.text,
                    &[],
                    &EnvSource::Unknown,
                    Limits::default(),
                ),
            });
        }
        for (i, f) in p.found.iter().enumerate() {
            if let (Ok(m), Some(model)) = (&f.config, f.load(&ctx.objects)) {
                p.configs.push(Loaded {
                    origin: Origin::Manifest {
                        proxy: i,
                        mounted: m.clone(),
                    },
                    model,
                });
            }
        }
        p
    })
}

impl Loaded {
    /// A finding of `rule` at `line` of this config. For a ConfigMap it points at
    /// the rendered line (and the template) and names the config line.
    pub fn finding(
        &self,
        ctx: &Context,
        rule: &Rule,
        line: Option<u32>,
        message: impl Into<String>,
    ) -> Finding {
        let message = message.into();
        match &self.origin {
            Origin::File(name) => rule.on_file(name, line, message),
            Origin::Manifest { mounted, .. } => {
                let cm = &ctx.objects[mounted.configmap];
                let at = match line {
                    Some(n) => format!("{} line {n}: ", mounted.key),
                    None => format!("{}: ", mounted.key),
                };
                let mut f = Finding::new(rule.id, rule.severity, format!("{at}{message}"));
                f.object = Some(ObjectRef { ..cm.reference() });
                f.location = manifest::location(&ctx.objects, mounted, line);
                f.help = Some(rule.fix.to_string());
                f
            }
        }
    }
}

/// The configs mounted into proxies of the manifests (`.lua` inputs left
/// out), each with its proxy and the object that runs it.
pub fn manifest_configs<'c, 'a>(
    ctx: &'c Context<'a>,
) -> impl Iterator<
    Item = (
        &'c Loaded,
        &'c manifest::FoundProxy,
        &'c crate::manifest::Object<'a>,
    ),
> {
    let proxies = proxies(ctx);
    proxies.configs.iter().filter_map(move |c| {
        let Origin::Manifest { proxy, .. } = &c.origin else {
            return None;
        };
        let f = &proxies.found[*proxy];
        Some((c, f, &ctx.objects[f.object]))
    })
}

/// Calls `f` with each builtin (`route_*`) handler of every loaded config,
/// and the config it is in.
pub fn builtin_routes<'c>(ctx: &'c Context, f: &mut dyn FnMut(&'c Loaded, &'c model::Route)) {
    for c in configs(ctx) {
        c.model.routes(&mut |r| {
            if r.kind == model::HandlerKind::Builtin {
                f(c, r);
            }
        });
    }
}

/// Every loaded config, with a finding builder, for rules.
pub fn configs<'c>(ctx: &'c Context) -> impl Iterator<Item = &'c Loaded> {
    proxies(ctx).configs.iter()
}
