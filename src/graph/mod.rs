//! `mclint graph`: a picture of the rendered topology — apps, proxies, the
//! Services in front of them, each proxy config's route groups and pools, and
//! the cache pods the pools reach.
//!
//! [`model`] is a format-free graph, built from the rendering and the proxy
//! model; `report::graph` writes it as Mermaid, DOT or SVG.

mod build;
pub mod model;
mod routes;

use std::path::PathBuf;

use crate::manifest::{InputKind, parse_stream, read_inputs};
use crate::rendering::{Rendering, Settings};

pub use model::{BuildOptions, Graph, GraphError};

/// What `mclint graph` draws (built by the command line).
#[derive(Debug, Clone)]
pub struct GraphRequest {
    /// Rendered manifests (files, directories, or `-` for stdin) and `.lua` proxy configs.
    pub paths: Vec<PathBuf>,
    pub format: GraphFormat,
    /// Draw only this proxy (workload, container or file name, or a part of it).
    pub proxy: Option<String>,
    /// Lua libraries loaded before each `.lua` config given (`--lib`).
    pub libs: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFormat {
    /// A Mermaid flowchart (renders in GitHub Markdown).
    Mermaid,
    /// Graphviz DOT.
    Dot,
    /// A standalone SVG image, laid out by mclint.
    Svg,
}

/// Reads the inputs and builds the graph.
pub fn graph_of(
    paths: &[PathBuf],
    stdin: &mut dyn std::io::Read,
    options: &BuildOptions,
) -> Result<Graph, GraphError> {
    let (inputs, mut errors) = read_inputs(paths, stdin);
    if !errors.is_empty() {
        return Err(errors.swap_remove(0).into());
    }
    let docs: Vec<_> = inputs
        .iter()
        .filter(|i| i.kind == InputKind::Yaml)
        .flat_map(parse_stream)
        .collect();
    let lua: Vec<_> = inputs
        .iter()
        .filter(|i| i.kind == InputKind::Lua)
        .cloned()
        .collect();
    let mut warnings = Vec::new();
    for d in &docs {
        if let Some(e) = d.error() {
            warnings.push(format!(
                "{}: document {} (line {}): {}; left out of the graph",
                d.file, d.index, e.line, e.message
            ));
        }
    }
    let rendering =
        Rendering::new(&docs, &lua, Settings::default()).with_libs(options.libs.clone());
    if rendering.objects.is_empty() && lua.is_empty() {
        let what = if paths.is_empty() || paths.iter().any(|p| p.as_os_str() == "-") {
            "standard input".to_string()
        } else {
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(GraphError::Empty { what });
    }
    let proxies = crate::proxy::load_all(&rendering);
    let mut g = build::build(&rendering.objects, &proxies, options)?;
    warnings.append(&mut g.warnings);
    g.warnings = warnings;
    Ok(g)
}

/// The whole command: the graph, with what could not be drawn in its
/// `warnings` (`report::graph` writes it in the request's format).
pub fn run(args: &GraphRequest, stdin: &mut dyn std::io::Read) -> Result<Graph, GraphError> {
    let libs = crate::rendering::read_libs(&args.libs, &crate::manifest::InputLimits::default())?;
    graph_of(
        &args.paths,
        stdin,
        &BuildOptions {
            proxy: args.proxy.clone(),
            libs,
        },
    )
}
