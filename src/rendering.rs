//! The bottom layer every command starts from: what was rendered (documents,
//! the objects in them, proxy configs given as `.lua` files) and the settings
//! it is judged under (Kubernetes version, schema directory, namespace).
//!
//! It knows nothing of rules, findings' selection or commands. The domain
//! models are functions of it: `schema::load(&settings)`,
//! `proxy::load_all(&rendering)`, `memcached::cmdline` over its objects.

use std::path::PathBuf;

use crate::manifest::{Document, Input, InputError, InputLimits, Object, read_inputs_with};

/// What a rendering is judged under.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// Kubernetes version to validate against (`1.33`, `v1.33`, `1.33.4`); `None`: the newest.
    pub kube_version: Option<String>,
    /// Extra or overriding JSON schemas (same layout as `schemas/`).
    pub schema_dir: Option<PathBuf>,
    /// The namespace objects without `metadata.namespace` land in (default: `default`).
    pub namespace: Option<String>,
}

/// A Lua library loaded before a config, as `proxy_config=routelib:FILE`
/// loads it (handler libraries, shared fragments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Library {
    pub name: String,
    pub text: String,
}

/// Documents, their objects and the standalone proxy configs of one run.
pub struct Rendering<'a> {
    pub documents: &'a [Document],
    pub objects: Vec<Object<'a>>,
    /// `.lua` proxy configs given directly.
    pub lua_inputs: &'a [Input],
    /// Libraries loaded before each `.lua` config given directly (`--lib`),
    /// in order.
    pub libs: Vec<Library>,
    pub settings: Settings,
}

impl<'a> Rendering<'a> {
    pub fn new(documents: &'a [Document], lua_inputs: &'a [Input], settings: Settings) -> Self {
        let default_namespace =
            crate::json::Str::from(settings.namespace.as_deref().unwrap_or("default"));
        // One object a document, as a rendering mostly is: held to the end
        // of a run, the list is not grown past what it holds.
        let mut objects = Vec::with_capacity(documents.len());
        for doc in documents {
            for mut o in crate::manifest::objects_in(doc) {
                o.default_namespace = default_namespace.clone();
                o.position = u32::try_from(objects.len()).unwrap_or(u32::MAX);
                objects.push(o);
            }
        }
        Rendering {
            documents,
            objects,
            lua_inputs,
            libs: Vec::new(),
            settings,
        }
    }

    /// The same rendering, with libraries loaded before its `.lua` configs.
    pub fn with_libs(mut self, libs: Vec<Library>) -> Self {
        self.libs = libs;
        self
    }
}

/// Reads `--lib` files: each one file (not a directory, not standard input),
/// bounded by `limits` like every input. The first error stops the reading.
pub fn read_libs(paths: &[PathBuf], limits: &InputLimits) -> Result<Vec<Library>, InputError> {
    let mut libs = Vec::new();
    for p in paths {
        let shown = p.display().to_string();
        if p.as_os_str() == "-" || p.is_dir() {
            let what = if p.is_dir() {
                "a directory"
            } else {
                "standard input"
            };
            return Err(InputError::Unreadable {
                path: shown,
                reason: format!("{what}; --lib takes a Lua file"),
            });
        }
        let (mut inputs, mut errors) =
            read_inputs_with(std::slice::from_ref(p), &mut std::io::empty(), limits);
        if !errors.is_empty() {
            return Err(errors.swap_remove(0));
        }
        let Some(input) = inputs.pop() else {
            return Err(InputError::Missing { path: shown });
        };
        libs.push(Library {
            name: shown,
            text: input.text,
        });
    }
    Ok(libs)
}
