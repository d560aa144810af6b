//! Project tasks.
//!
//! `cargo run -p xtask -- gen-schemas [--out DIR]` writes the strict JSON schemas of
//! the Kubernetes version this build of the xtask was compiled for (k8s-openapi
//! selects one version per build, through the `v1_XX` features) to
//! `DIR/v1.XX/` (default `schemas/`).
//!
//! `cargo run -p xtask -- gen-schemas --all [--out DIR]` builds and runs the xtask
//! once per supported version and then writes `src/schema/embedded.rs`, the table
//! that compiles every version into mclint.

mod enums;
mod kinds;
mod sources;
mod strict;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use serde_json::Value;

#[cfg(feature = "new")]
use k8s_openapi as k8s;
#[cfg(feature = "old")]
use k8s_openapi_old as k8s;

/// Every Kubernetes version mclint supports, oldest first (xtask features
/// `v1_29` … `v1_37`). The first is the oldest version the chart supports
/// (`tests/schema_regen.rs` keeps the two equal).
pub const VERSIONS: &[&str] = &[
    "1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36", "1.37",
];

/// The k8s-openapi release that carries a version (see `Cargo.toml`).
pub fn crate_for(version: &str) -> &'static str {
    match version {
        "1.29" | "1.30" | "1.31" | "1.32" => "0.24.0",
        _ => "0.29.0",
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::from(2)
        }
    }
}

fn usage() -> String {
    "usage: cargo run -p xtask -- gen-schemas [--all] [--out DIR] [--no-embed] | embed-schemas | gen-kind-lists [--check] | check-coverage [--schemas DIR]\n  \
     without --all: the version this build was compiled for (feature v1_XX)\n  \
     --all: every supported version, each by its own build, then src/schema/embedded.rs\n  \
     embed-schemas: only rewrite src/schema/embedded.rs from schemas/\n  \
     gen-kind-lists [--check]: rewrite (or compare) xtask/src/kinds.rs from k8s-openapi's source\n  \
     check-coverage: every kind k8s-openapi defines has its schema and index entry, every version (in schemas/ or DIR)"
        .to_string()
}

fn run(args: &[String]) -> Result<(), String> {
    let Some((cmd, rest)) = args.split_first() else {
        return Err(usage());
    };
    if cmd == "embed-schemas" {
        return write_embedded(
            &repo_root().join("schemas"),
            &repo_root().join("src/schema/embedded.rs"),
        );
    }
    if cmd == "gen-kind-lists" {
        let path = repo_root().join("xtask/src/kinds.rs");
        let text = sources::kind_lists()?;
        if rest.iter().any(|a| a == "--check") {
            let old = std::fs::read_to_string(&path).unwrap_or_default();
            return if old == text {
                Ok(())
            } else {
                Err(
                    "xtask/src/kinds.rs is out of date; run: cargo run -p xtask -- gen-kind-lists"
                        .into(),
                )
            };
        }
        return std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()));
    }
    if cmd == "check-coverage" {
        return match rest {
            [] => check_coverage(&repo_root().join("schemas")),
            [flag, dir] if flag == "--schemas" => check_coverage(Path::new(dir)),
            _ => Err(format!(
                "check-coverage takes only --schemas DIR\n{}",
                usage()
            )),
        };
    }
    if cmd != "gen-schemas" {
        return Err(format!("unknown task `{cmd}`\n{}", usage()));
    }
    let mut out = repo_root().join("schemas");
    let mut all = false;
    let mut embed = true;
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--all" => all = true,
            "--no-embed" => embed = false,
            "--out" => out = PathBuf::from(it.next().ok_or("--out needs a directory")?),
            other => return Err(format!("unknown argument `{other}`\n{}", usage())),
        }
    }
    if all {
        for v in VERSIONS {
            let feature = format!("v1_{}", v.trim_start_matches("1."));
            eprintln!("xtask: generating Kubernetes {v} (feature {feature})");
            let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .current_dir(repo_root())
                // A target directory of its own: nine k8s-openapi builds must
                // not hold the workspace's build lock for minutes.
                .arg("run")
                .arg("--target-dir")
                .arg(repo_root().join("target/xtask"))
                // Run once per regeneration: k8s-openapi unoptimised compiles
                // in a fraction of the time.
                .args(["--config", "profile.dev.package.\"*\".opt-level=0"])
                .args([
                    "--quiet",
                    "-p",
                    "xtask",
                    "--no-default-features",
                    "--features",
                    &feature,
                ])
                .args(["--", "gen-schemas", "--out"])
                .arg(&out)
                .status()
                .map_err(|e| format!("cannot run cargo: {e}"))?;
            if !status.success() {
                return Err(format!("generating {v} failed ({status})"));
            }
        }
        if embed {
            write_embedded(&out, &repo_root().join("src/schema/embedded.rs"))?;
        }
        Ok(())
    } else {
        generate(&out)
    }
}

/// Every kind k8s-openapi defines for every supported version has a schema file
/// in `schemas/v1.XX/` and is listed as served in that version's `index.json`.
fn check_coverage(schemas: &Path) -> Result<(), String> {
    let mut missing = Vec::new();
    let mut count = 0;
    for (v, dir) in sources::version_dirs()? {
        let vdir = schemas.join(format!("v{v}"));
        let index: Value = std::fs::read_to_string(vdir.join("index.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
        for k in sources::kinds_in(&dir)? {
            count += 1;
            let file = file_name(&k.api_version, &k.kind);
            let indexed = index["kinds"][&k.kind]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == k.api_version.as_str()));
            if !vdir.join(&file).is_file() || !indexed {
                missing.push(format!("{v} {} {}", k.api_version, k.kind));
            }
        }
    }
    if missing.is_empty() {
        eprintln!("xtask: all {count} kinds of every version have a schema");
        Ok(())
    } else {
        Err(format!(
            "{} served kinds have no schema or index entry (run: cargo run -p xtask -- gen-schemas --all):\n  {}",
            missing.len(),
            missing.join("\n  ")
        ))
    }
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the repository root")
        .to_path_buf()
}

/// The Kubernetes version this build was compiled for, as `1.XX`.
fn compiled_version() -> &'static str {
    let features = [
        (cfg!(feature = "v1_29"), "1.29"),
        (cfg!(feature = "v1_30"), "1.30"),
        (cfg!(feature = "v1_31"), "1.31"),
        (cfg!(feature = "v1_32"), "1.32"),
        (cfg!(feature = "v1_33"), "1.33"),
        (cfg!(feature = "v1_34"), "1.34"),
        (cfg!(feature = "v1_35"), "1.35"),
        (cfg!(feature = "v1_36"), "1.36"),
        (cfg!(feature = "v1_37"), "1.37"),
    ];
    features
        .iter()
        .find(|(on, _)| *on)
        .map(|(_, v)| *v)
        .expect("a v1_XX feature selects the version")
}

/// One top-level kind: its identity and its raw (schemars) schema.
pub struct Kind {
    /// The OpenAPI name of the type (`io.k8s.api.core.v1.Pod`): the root's definition.
    name: String,
    api_version: &'static str,
    kind: &'static str,
    schema: Value,
}

/// A kind of k8s-openapi 0.29 (schemars 1.x, draft 2020-12).
#[cfg(feature = "new")]
pub fn kind<T: k8s::Resource + schemars::JsonSchema>() -> Kind {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let schema = generator.root_schema_for::<T>();
    Kind {
        name: T::schema_name().into_owned(),
        api_version: T::API_VERSION,
        kind: T::KIND,
        schema: schema.to_value(),
    }
}

/// A kind of k8s-openapi 0.24 (schemars 0.8): generated with the draft 2019-09
/// settings (`#/$defs/` references) and brought to the same shape as the 0.29
/// output, so every version's files follow one scheme.
#[cfg(feature = "old")]
pub fn kind<T: k8s::Resource + schemars08::JsonSchema>() -> Kind {
    let mut settings = schemars08::r#gen::SchemaSettings::draft2019_09();
    // schemars 0.8 keeps `definitions` for 2019-09; references use `$defs` as 1.x writes them.
    settings.definitions_path = "#/$defs/".to_owned();
    let generator = settings.into_generator();
    let root = generator.into_root_schema_for::<T>();
    let mut schema = serde_json::to_value(&root).expect("a schema serializes");
    if let Value::Object(m) = &mut schema {
        if let Some(defs) = m.remove("definitions") {
            m.insert("$defs".into(), defs);
        }
        m.insert(
            "$schema".into(),
            Value::String("https://json-schema.org/draft/2020-12/schema".into()),
        );
    }
    Kind {
        name: <T as schemars08::JsonSchema>::schema_name(),
        api_version: T::API_VERSION,
        kind: T::KIND,
        schema,
    }
}

/// `apps/v1` + `StatefulSet` → `apps-v1-statefulset.json`; `v1` + `Service` → `v1-service.json`.
fn file_name(api_version: &str, kind: &str) -> String {
    format!(
        "{}-{}.json",
        api_version.replace('/', "-"),
        kind.to_ascii_lowercase()
    )
}

fn pretty(value: &Value) -> String {
    // Keys in order, whatever order the maps were built in (serde_json keeps
    // insertion order in this workspace).
    let mut value = value.clone();
    value.sort_all_objects();
    let mut s = serde_json::to_string_pretty(&value).expect("a JSON value serializes");
    s.push('\n');
    s
}

fn generate(out: &Path) -> Result<(), String> {
    let version = compiled_version();
    let dir = out.join(format!("v{version}"));
    if dir.exists() {
        // Only our own files: every `*.json` here was written by a previous run.
        for entry in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
            if path.extension().is_some_and(|e| e == "json") {
                std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut index: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let kinds = kinds::kinds();
    let raw: Vec<(&str, &Value)> = kinds.iter().map(|k| (k.name.as_str(), &k.schema)).collect();
    let problems = enums::check_against_docs(&raw);
    if !problems.is_empty() {
        return Err(format!(
            "xtask/src/enums.rs disagrees with k8s-openapi's documentation for Kubernetes {version}:\n  {}",
            problems.join("\n  ")
        ));
    }
    for k in &kinds {
        let mut schema = strict::make_strict(k.schema.clone(), k.api_version, k.kind)
            .map_err(|e| format!("{} {}: {e}", k.api_version, k.kind))?;
        enums::apply(&mut schema, &k.name);
        let path = dir.join(file_name(k.api_version, k.kind));
        std::fs::write(&path, pretty(&schema)).map_err(|e| format!("{}: {e}", path.display()))?;
        index.entry(k.kind).or_default().push(k.api_version);
    }
    for versions in index.values_mut() {
        versions.sort_unstable();
    }
    let index = serde_json::json!({
        "kubernetesVersion": version,
        "generator": format!("cargo run -p xtask -- gen-schemas (k8s-openapi {})", crate_for(version)),
        "kinds": index,
    });
    let path = dir.join("index.json");
    std::fs::write(&path, pretty(&index)).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("xtask: wrote {} schemas to {}", kinds.len(), dir.display());
    Ok(())
}

/// Writes the `include_str!` table of every `schemas/v1.XX/*.json`.
fn write_embedded(schemas: &Path, target: &Path) -> Result<(), String> {
    let mut s = String::from(
        "// @generated by `cargo run -p xtask -- gen-schemas --all`; do not edit.\n\
         //! Every schema of every supported Kubernetes version, compiled into mclint.\n\n\
         /// `(version, file name, JSON text)`, sorted by version then file.\n\
         #[rustfmt::skip]\n\
         pub static FILES: &[(&str, &str, &str)] = &[\n",
    );
    for v in VERSIONS {
        let dir = schemas.join(format!("v{v}"));
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        names.sort();
        for n in names {
            s.push_str(&format!(
                "    (\"{v}\", \"{n}\", include_str!(\"../../schemas/v{v}/{n}\")),\n"
            ));
        }
    }
    s.push_str("];\n");
    std::fs::write(target, s).map_err(|e| format!("{}: {e}", target.display()))
}
