//! Which kinds k8s-openapi defines for each Kubernetes version, read from its
//! source (one directory per version, `src/v1_XX/`), so that the list of
//! generated schemas is derived rather than kept by hand.
//!
//! A kind counts when its type implements `Resource` and `Metadata` with an
//! `ObjectMeta` (an object a manifest can create), except the subresource-only
//! types whose URL path segment is not a plural collection (`Scale` at
//! `.../scale`, `Eviction` at `.../eviction`, `TokenRequest` at `.../token`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One kind as k8s-openapi defines it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KindSource {
    pub api_version: String,
    pub kind: String,
    /// The Rust path below the crate root, e.g. `api::core::v1::Pod`.
    pub rust_path: String,
}

/// Every supported version → the directory of k8s-openapi's source for it.
/// The crates are found through `cargo metadata` (both releases the xtask
/// depends on, whatever features this build has).
pub fn version_dirs() -> Result<BTreeMap<String, PathBuf>, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Only this platform's packages: the others need not be downloaded. Not
    // offline: a build of one version has not fetched the other release.
    let out = Command::new(cargo)
        .current_dir(crate::repo_root())
        .args([
            "metadata",
            "--format-version",
            "1",
            "--all-features",
            "--locked",
            "--filter-platform",
            &host_triple()?,
        ])
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("cargo metadata: not JSON: {e}"))?;
    let mut dirs = BTreeMap::new();
    for p in meta["packages"].as_array().into_iter().flatten() {
        if p["name"] != "k8s-openapi" {
            continue;
        }
        let Some(manifest) = p["manifest_path"].as_str() else {
            continue;
        };
        let src = Path::new(manifest)
            .parent()
            .ok_or("a manifest path has a parent")?
            .join("src");
        let release = p["version"].as_str().unwrap_or("");
        for v in crate::VERSIONS {
            let dir = src.join(format!("v1_{}", v.trim_start_matches("1.")));
            if dir.is_dir() && crate::crate_for(v) == release {
                dirs.insert(v.to_string(), dir);
            }
        }
        // The newest release's every version is supported (mclint goes up to
        // the newest Kubernetes k8s-openapi has).
        if crate::VERSIONS
            .last()
            .is_some_and(|newest| crate::crate_for(newest) == release)
        {
            for v in versions_in(&src)? {
                if !crate::VERSIONS.contains(&v.as_str()) {
                    return Err(format!(
                        "k8s-openapi {release} carries Kubernetes {v}, which xtask's VERSIONS lacks"
                    ));
                }
            }
        }
    }
    for v in crate::VERSIONS {
        if !dirs.contains_key(*v) {
            return Err(format!(
                "no k8s-openapi {} source for Kubernetes {v}",
                crate::crate_for(v)
            ));
        }
    }
    Ok(dirs)
}

/// The Kubernetes versions a k8s-openapi source tree carries (`src/v1_XX/`), as `1.XX`.
fn versions_in(src: &Path) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(src).map_err(|e| format!("{}: {e}", src.display()))? {
        let entry = entry.map_err(|e| format!("{}: {e}", src.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(minor) = name.strip_prefix("v1_")
            && entry.path().is_dir()
            && minor.bytes().all(|b| b.is_ascii_digit())
        {
            out.push(format!("1.{minor}"));
        }
    }
    Ok(out)
}

/// The platform cargo builds for by default (`rustc -vV`'s `host:`).
fn host_triple() -> Result<String, String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .map_err(|e| format!("cannot run rustc -vV: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_string)
        .ok_or_else(|| "rustc -vV names no host".to_string())
}

/// The kinds defined under one version directory, sorted by apiVersion and kind.
pub fn kinds_in(dir: &Path) -> Result<Vec<KindSource>, String> {
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<KindSource>) -> Result<(), String> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let module = path
                .parent()
                .and_then(|p| p.strip_prefix(root).ok())
                .map(|p| {
                    p.components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join("::")
                })
                .unwrap_or_default();
            out.extend(kinds_in_file(&text, &module));
        }
    }
    Ok(())
}

/// The string constant `NAME` in `block` (`const NAME: &'static str = "value";`).
fn constant<'a>(block: &'a str, name: &str) -> Option<&'a str> {
    let at = block.find(&format!("const {name}: &'static str = \""))?;
    let rest = &block[at..];
    let start = rest.find('"')? + 1;
    let end = start + rest[start..].find('"')?;
    Some(&rest[start..end])
}

fn kinds_in_file(text: &str, module: &str) -> Vec<KindSource> {
    let mut out = Vec::new();
    let marker = "impl crate::Resource for ";
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let after = &rest[at + marker.len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let block_end = after.find("\n}").unwrap_or(after.len());
        let block = &after[..block_end];
        rest = &after[block_end..];
        let (Some(api_version), Some(kind), Some(segment)) = (
            constant(block, "API_VERSION"),
            constant(block, "KIND"),
            constant(block, "URL_PATH_SEGMENT"),
        ) else {
            continue;
        };
        let object_meta = text.contains(&format!(
            "impl crate::Metadata for {name} {{\n    type Ty = crate::apimachinery::pkg::apis::meta::v1::ObjectMeta;"
        ));
        if !object_meta || !segment.ends_with('s') {
            continue;
        }
        out.push(KindSource {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            rust_path: format!("{module}::{name}"),
        });
    }
    out
}

/// The text of `xtask/src/kinds.rs`: for each version, the function listing
/// every kind's type, compiled only into the build for that version.
pub fn kind_lists() -> Result<String, String> {
    let mut s = String::from(
        "// @generated by `cargo run -p xtask -- gen-kind-lists` from k8s-openapi's source; do not edit.\n\
         //! Every kind k8s-openapi defines, per Kubernetes version (see `sources.rs`).\n\n",
    );
    for (v, dir) in version_dirs()? {
        let feature = format!("v1_{}", v.trim_start_matches("1."));
        s.push_str(&format!(
            "/// Kubernetes {v}.\n#[cfg(feature = \"{feature}\")]\n#[rustfmt::skip]\npub fn kinds() -> Vec<crate::Kind> {{\n    use crate::k8s;\n    vec![\n"
        ));
        for k in kinds_in(&dir)? {
            s.push_str(&format!("        crate::kind::<k8s::{}>(),\n", k.rust_path));
        }
        s.push_str("    ]\n}\n\n");
    }
    s.pop();
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subresource_and_a_list_are_not_kinds() {
        let text = r#"
impl crate::Resource for Pod {
    const API_VERSION: &'static str = "v1";
    const KIND: &'static str = "Pod";
    const URL_PATH_SEGMENT: &'static str = "pods";
}
impl crate::Metadata for Pod {
    type Ty = crate::apimachinery::pkg::apis::meta::v1::ObjectMeta;
}
impl crate::Resource for Scale {
    const API_VERSION: &'static str = "autoscaling/v1";
    const KIND: &'static str = "Scale";
    const URL_PATH_SEGMENT: &'static str = "scale";
}
impl crate::Metadata for Scale {
    type Ty = crate::apimachinery::pkg::apis::meta::v1::ObjectMeta;
}
impl crate::Resource for Status {
    const API_VERSION: &'static str = "v1";
    const KIND: &'static str = "Status";
    const URL_PATH_SEGMENT: &'static str = "statuses";
}
impl crate::Metadata for Status {
    type Ty = crate::apimachinery::pkg::apis::meta::v1::ListMeta;
}
"#;
        let kinds = kinds_in_file(text, "api::core::v1");
        assert_eq!(
            kinds,
            vec![KindSource {
                api_version: "v1".into(),
                kind: "Pod".into(),
                rust_path: "api::core::v1::Pod".into()
            }]
        );
    }
}
