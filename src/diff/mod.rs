//! `mclint diff OLD NEW` and `mclint diff --chart DIR --base REF`: what changes
//! between two renderings — per object (a unified diff of canonical text, so
//! key order and quoting never show up) — and, for every proxy route present
//! on both sides, the share of keys that land on another backend.

mod canon;
mod objects;
mod pools;
pub mod remap;
mod render;

pub use render::Interrupted;

/// Why `mclint diff` cannot compare.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// An option or a rendering that cannot be used as given.
    #[error("{0}")]
    Request(String),
    #[error(transparent)]
    Input(#[from] crate::manifest::InputError),
    /// A file, directory or program that failed, and what was being done.
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// git, tar or helm refused: its own message.
    #[error("{0}")]
    Tool(String),
    /// Stopped by SIGINT or SIGTERM, after cleaning up.
    #[error(transparent)]
    Interrupted(#[from] Interrupted),
    /// An error, and where it happened.
    #[error("{what}")]
    Within {
        what: String,
        #[source]
        source: Box<DiffError>,
    },
}

impl DiffError {
    /// This error, said to have happened in `what`.
    pub fn within(self, what: impl Into<String>) -> DiffError {
        DiffError::Within {
            what: what.into(),
            source: Box::new(self),
        }
    }

    /// The signal that stopped the run, if one did.
    pub fn interrupted(&self) -> Option<&Interrupted> {
        match self {
            DiffError::Interrupted(i) => Some(i),
            DiffError::Within { source, .. } => source.interrupted(),
            _ => None,
        }
    }
}

use std::path::{Path, PathBuf};

use objects::{ConfigTextChange, ObjectDiff, Side};
use remap::RouteRemap;

/// What `mclint diff` compares and how (built by the command line).
#[derive(Debug, Clone)]
pub struct DiffRequest {
    /// The old rendering: a file, a directory or `-` (standard input).
    pub old: Option<PathBuf>,
    /// The new rendering: a file, a directory or `-`.
    pub new: Option<PathBuf>,
    /// Render this chart at --base and in the working tree, and compare.
    pub chart: Option<PathBuf>,
    /// Git ref (branch, tag, commit) of the old rendering, with --chart.
    pub base: Option<String>,
    /// Values file for both renderings (repeatable). One tracked in git is read
    /// at --base for the old rendering.
    pub values: Vec<PathBuf>,
    /// `--set` for both renderings (repeatable).
    pub set: Vec<String>,
    /// `--set-string` for both renderings (repeatable).
    pub set_string: Vec<String>,
    /// Release name for both renderings.
    pub release: String,
    /// Namespace for both renderings.
    pub namespace: String,
    /// The Helm command (default: $HELM_BIN, else `helm`).
    pub helm: Option<PathBuf>,
    /// Seconds each `helm template` may take before it is killed (with the
    /// processes it started), with --chart.
    pub helm_timeout: u64,
    /// Number of deterministic synthetic keys to route through both configs.
    pub keys: usize,
    /// Real keys to route instead, one per line.
    pub keys_file: Option<PathBuf>,
    /// Exit 1 when a route moves more than this percentage of keys.
    pub max_remap: Option<f64>,
    pub format: DiffFormat,
    /// Lines of context in object diffs.
    pub context: usize,
    /// Libraries loaded before each `.lua` config given directly, in order
    /// (`--lib`, as `-o proxy_config=routelib:FILE` loads them).
    pub libs: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffFormat {
    Text,
    Json,
    /// Markdown for a GitHub job summary or PR comment.
    Github,
}

/// The remapping part of a report.
#[derive(Debug, Default)]
pub struct RemapReport {
    pub keys: usize,
    /// `synthetic`, or the keys file.
    pub key_source: String,
    pub routes: Vec<RouteRemap>,
    pub configs_added: Vec<String>,
    pub configs_removed: Vec<String>,
    /// Configs that could not be compared, and why.
    pub skipped: Vec<String>,
}

#[derive(Debug)]
pub struct DiffReport {
    pub old_label: String,
    pub new_label: String,
    pub objects: ObjectDiff,
    /// Text changes of the proxy configs given as `.lua` files.
    pub config_texts: Vec<ConfigTextChange>,
    /// How many `.lua` files the two sides hold (0: only manifests).
    pub lua_files: usize,
    pub remap: RemapReport,
    pub max_remap: Option<f64>,
    /// Route groups over --max-remap.
    pub exceeded: Vec<RouteRemap>,
    pub warnings: Vec<String>,
}

/// Runs the whole command; returns the report (main prints it).
pub fn run(args: &DiffRequest, stdin: &mut dyn std::io::Read) -> Result<DiffReport, DiffError> {
    if let Some(m) = args.max_remap
        && !(0.0..=100.0).contains(&m)
    {
        return Err(DiffError::Request(format!(
            "--max-remap {m}: give a percentage between 0 and 100"
        )));
    }
    // Read before any rendering: a bad --lib fails at once.
    let libs = crate::rendering::read_libs(&args.libs, &crate::manifest::InputLimits::default())
        .map_err(|e| DiffError::Request(format!("--lib: {e}")))?;
    let keys = match &args.keys_file {
        Some(f) => {
            let keys = remap::Keys::from_file(f).map_err(|source| DiffError::Io {
                what: format!("{}: cannot read the keys file", f.display()),
                source,
            })?;
            if keys.is_empty() {
                return Err(DiffError::Request(format!(
                    "{}: the keys file holds no keys (one per line)",
                    f.display()
                )));
            }
            keys
        }
        None => {
            if args.keys == 0 {
                return Err(DiffError::Request(
                    "--keys 0: give at least one key".to_string(),
                ));
            }
            remap::synthetic_keys(args.keys)
        }
    };
    let key_source = match &args.keys_file {
        Some(f) => format!("keys from {}", f.display()),
        None => "synthetic".to_string(),
    };

    let (old, new, old_label, new_label) = match (&args.chart, &args.base) {
        (Some(chart), Some(base)) => {
            // --helm, else $HELM_BIN (set by Helm for plugins), else `helm` on PATH.
            let (helm, helm_from) = match (&args.helm, std::env::var_os("HELM_BIN")) {
                (Some(h), _) => (h.clone(), render::HelmFrom::Flag),
                (None, Some(env)) if !env.is_empty() => (PathBuf::from(env), render::HelmFrom::Env),
                _ => (PathBuf::from("helm"), render::HelmFrom::Path),
            };
            let opts = render::RenderOptions {
                helm,
                helm_from,
                release: &args.release,
                namespace: &args.namespace,
                values: &args.values,
                set: &args.set,
                set_string: &args.set_string,
                timeout: std::time::Duration::from_secs(args.helm_timeout),
            };
            let (old_text, new_text) = render::render_base_and_worktree(chart, base, &opts)?;
            let old = load_text(&format!("{} at {base}", chart.display()), old_text)?;
            let new = load_text(&format!("{} (working tree)", chart.display()), new_text)?;
            (
                old,
                new,
                format!("{} at {base}", chart.display()),
                format!("{} (working tree)", chart.display()),
            )
        }
        _ => {
            let (Some(o), Some(n)) = (&args.old, &args.new) else {
                return Err(DiffError::Request(
                    "give OLD and NEW renderings, or --chart DIR --base REF".to_string(),
                ));
            };
            if o.as_os_str() == "-" && n.as_os_str() == "-" {
                return Err(DiffError::Request(
                    "only one of OLD and NEW can be `-` (standard input)".to_string(),
                ));
            }
            let old = objects::load(o, stdin)?;
            let new = objects::load(n, stdin)?;
            (old, new, label(o), label(n))
        }
    };
    if old.objects.is_empty() && old.configs.is_empty() {
        return Err(DiffError::Request(format!(
            "{old_label}: no objects and no proxy configs; if it came from `helm template`, that command failed"
        )));
    }
    if new.objects.is_empty() && new.configs.is_empty() {
        return Err(DiffError::Request(format!(
            "{new_label}: no objects and no proxy configs; if it came from `helm template`, that command failed"
        )));
    }

    let objects = objects::compare(&old, &new, args.context);
    let config_texts = objects::compare_lua_files(&old, &new, args.context);
    let mut remap = compare_configs(&old, &new, &keys, &libs);
    if let (Some(source), Some(f)) = (keys.take_error(), &args.keys_file) {
        return Err(DiffError::Io {
            what: format!("{}: cannot read the keys file", f.display()),
            source,
        });
    }
    remap.key_source = key_source;
    let exceeded = match args.max_remap {
        Some(limit) => remap
            .routes
            .iter()
            .filter(|g| g.effective().is_some_and(|m| m * 100.0 > limit))
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    let mut warnings = old.warnings;
    warnings.extend(new.warnings);
    Ok(DiffReport {
        old_label,
        new_label,
        objects,
        config_texts,
        lua_files: old.lua_files.len() + new.lua_files.len(),
        remap,
        max_remap: args.max_remap,
        exceeded,
        warnings,
    })
}

fn label(p: &Path) -> String {
    if p.as_os_str() == "-" {
        "<stdin>".into()
    } else {
        p.display().to_string()
    }
}

/// Loads a rendering held in memory (a chart rendered by us).
fn load_text(label: &str, text: String) -> Result<Side, DiffError> {
    let mut cursor = std::io::Cursor::new(text.into_bytes());
    objects::load(Path::new("-"), &mut cursor).map_err(|e| e.within(label))
}

fn compare_configs(
    old: &Side,
    new: &Side,
    keys: &remap::Keys,
    libs: &[crate::rendering::Library],
) -> RemapReport {
    let mut report = RemapReport {
        keys: keys.len(),
        ..RemapReport::default()
    };
    let load_all = |side: &Side, which: &str, skipped: &mut Vec<String>| {
        let mut specs = Vec::new();
        for c in &side.configs {
            match pools::load(c, libs) {
                pools::Loaded::Spec(s) => specs.push((c.id.clone(), s)),
                pools::Loaded::NotAConfig => {}
                pools::Loaded::Failed(e) => {
                    skipped.push(format!("{which} {}: does not load: {e}", c.id))
                }
            }
        }
        specs
    };
    let old_specs = load_all(old, "old", &mut report.skipped);
    let new_specs = load_all(new, "new", &mut report.skipped);
    // One config on each side: the same config, whatever the files are called.
    if old_specs.len() == 1 && new_specs.len() == 1 {
        let (oid, o) = &old_specs[0];
        let (nid, n) = &new_specs[0];
        let id = if oid == nid {
            oid.clone()
        } else {
            format!("{oid} → {nid}")
        };
        report.routes = remap::compare(&id, o, n, keys);
        return report;
    }
    for (id, o) in &old_specs {
        match new_specs.iter().find(|(nid, _)| nid == id) {
            Some((_, n)) => report.routes.extend(remap::compare(id, o, n, keys)),
            None => report.configs_removed.push(id.clone()),
        }
    }
    for (id, _) in &new_specs {
        if !old_specs.iter().any(|(oid, _)| oid == id) {
            report.configs_added.push(id.clone());
        }
    }
    report
}
