//! The bottom layer every command starts from: what was rendered (documents,
//! the objects in them, proxy configs given as `.lua` files) and the settings
//! it is judged under (Kubernetes version, schema directory, namespace).
//!
//! It knows nothing of rules, findings' selection or commands. The domain
//! models are functions of it: `schema::load(&settings)`,
//! `proxy::load_all(&rendering)`, `memcached::cmdline` over its objects.

use std::path::PathBuf;
use std::sync::Arc;

use crate::manifest::{Document, Input, Object};

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

/// Documents, their objects and the standalone proxy configs of one run.
pub struct Rendering<'a> {
    pub documents: &'a [Document],
    pub objects: Vec<Object<'a>>,
    /// `.lua` proxy configs given directly.
    pub lua_inputs: &'a [Input],
    pub settings: Settings,
}

impl<'a> Rendering<'a> {
    pub fn new(documents: &'a [Document], lua_inputs: &'a [Input], settings: Settings) -> Self {
        let default_namespace: Arc<str> =
            Arc::from(settings.namespace.as_deref().unwrap_or("default"));
        let objects = documents
            .iter()
            .flat_map(crate::manifest::objects_in)
            .map(|mut o| {
                o.default_namespace = default_namespace.clone();
                o
            })
            .collect();
        Rendering {
            documents,
            objects,
            lua_inputs,
            settings,
        }
    }
}
