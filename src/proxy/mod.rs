//! The proxy model: memcached's built-in proxy configured with routelib.
//!
//! A config (a `.lua` file, or a ConfigMap key mounted where a proxy container's
//! `proxy_arg` points) runs in a sandboxed Lua VM ([`vm`]) against mclint's own
//! model of routelib's configuration API; [`model`] turns what it declared into
//! Rust data; [`hash`] and [`eval`] place keys and follow routes without Lua;
//! [`manifest`] finds proxies in rendered manifests (`mclint route` is
//! `crate::route`).

pub mod api;
pub mod builder;
pub mod eval;
pub mod hash;
pub mod lines;
pub mod manifest;
pub mod migration;
pub mod model;
pub mod placement;
pub mod value;
pub mod vm;

pub mod files;

pub use model::ProxyConfig;
pub use vm::{EnvSource, Limits, Opened, Opener};

/// A library named in `proxy_config` besides routelib (`routelib:/etc/x.lua`).
pub use crate::rendering::Library;

/// Runs a config (after its libraries) and builds its model; its `dofile`
/// and `loadfile` reach no file ([`load_with_files`] gives them some).
pub fn load(
    name: &str,
    text: &str,
    libs: &[Library],
    env: &EnvSource,
    limits: Limits,
) -> ProxyConfig {
    load_with_files(name, text, libs, env, limits, &vm::no_files)
}

/// [`load`], with `dofile` and `loadfile` opening what `open` hands out
/// ([`files`]).
pub fn load_with_files(
    name: &str,
    text: &str,
    libs: &[Library],
    env: &EnvSource,
    limits: Limits,
    open: &Opener,
) -> ProxyConfig {
    let chunks: Vec<vm::Chunk> = libs
        .iter()
        .map(|l| vm::Chunk {
            name: &l.name,
            text: &l.text,
        })
        .collect();
    let (declared, failure) = vm::run(vm::Chunk { name, text }, &chunks, env, limits, open);
    let mut cfg = builder::build(name, text, declared, failure);
    cfg.libs = libs
        .iter()
        .map(|l| (l.name.clone(), l.text.clone()))
        .collect();
    cfg
}

use crate::rendering::Rendering;

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

/// Every proxy of a rendering and every config it runs (`.lua` inputs first).
#[derive(Debug, Default)]
pub struct Proxies {
    pub found: Vec<manifest::FoundProxy>,
    pub configs: Vec<Loaded>,
}

/// Finds the proxies of a rendering and loads every config: the `.lua`
/// inputs, then each config mounted into a proxy of the manifests.
pub fn load_all(rendering: &Rendering) -> Proxies {
    let mut p = Proxies {
        found: manifest::find_proxies(&rendering.objects),
        configs: Vec::new(),
    };
    for input in rendering.lua_inputs {
        p.configs.push(Loaded {
            origin: Origin::File(input.name.to_string()),
            model: load_with_files(
                &input.name,
                &input.text,
                &rendering.libs,
                &EnvSource::Unknown,
                Limits::default(),
                &files::beside(&input.name),
            ),
        });
    }
    for (i, f) in p.found.iter().enumerate() {
        if let (Ok(m), Some(model)) = (&f.config, f.load(&rendering.objects)) {
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
}
