//! Encodes every embedded schema (`schemas/v1.XX/*.json`) into the compact form
//! `src/schema/compact.rs` checks objects with, so a run loads it in
//! microseconds instead of parsing and compiling the JSON schema.

use std::path::{Path, PathBuf};

#[allow(dead_code)]
#[path = "src/schema/encode.rs"]
mod encode;
#[allow(dead_code)]
#[path = "src/schema/quantity.rs"]
mod quantity;

fn main() {
    println!("cargo:rerun-if-changed=schemas");
    println!("cargo:rerun-if-changed=src/schema/encode.rs");
    println!("cargo:rerun-if-changed=src/schema/quantity.rs");
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let mut entries: Vec<(String, String, PathBuf)> = Vec::new();
    for dir in sorted(&root.join("schemas")) {
        let Some(version) = dir
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix('v'))
            .map(str::to_string)
        else {
            continue;
        };
        if !dir.is_dir() {
            continue;
        }
        println!("cargo:rerun-if-changed={}", dir.display());
        for file in sorted(&dir) {
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            if name.ends_with(".json") && name != "index.json" {
                entries.push((version.clone(), name, file));
            }
        }
    }
    entries.sort();
    write_kind_index(&root, &out);
    let mut blob = Vec::new();
    let mut index = String::from(
        "/// `(version, schema file, start, end)` of each compact form in `BLOB`.\n\
         static INDEX: &[(&str, &str, usize, usize)] = &[\n",
    );
    for (version, name, path) in &entries {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let value: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let Some(bytes) = encode::encode(&value, quantity::PATTERN) else {
            continue;
        };
        let start = blob.len();
        blob.extend_from_slice(&bytes);
        index.push_str(&format!(
            "    ({version:?}, {name:?}, {start}, {}),\n",
            blob.len()
        ));
    }
    index.push_str("];\n");
    std::fs::write(out.join("compact.bin"), blob).expect("write compact.bin");
    std::fs::write(out.join("compact_index.rs"), index).expect("write compact_index.rs");
}

/// `kind_index.rs`: every version's `index.json` (kind → the apiVersions
/// serving it) as a static table.
fn write_kind_index(root: &Path, out: &Path) {
    let mut rows: Vec<(String, String, Vec<String>)> = Vec::new();
    for dir in sorted(&root.join("schemas")) {
        let Some(version) = dir
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix('v'))
        else {
            continue;
        };
        let path = dir.join("index.json");
        if !path.is_file() {
            continue;
        }
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let value: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let kinds = value
            .get("kinds")
            .and_then(|k| k.as_object())
            .unwrap_or_else(|| panic!("{}: no `kinds` map", path.display()));
        for (kind, served) in kinds {
            let mut list: Vec<String> = Vec::new();
            for v in served
                .as_array()
                .unwrap_or_else(|| panic!("{}: `kinds.{kind}` is not a list", path.display()))
            {
                let v = v.as_str().unwrap_or_else(|| {
                    panic!("{}: `kinds.{kind}` holds a non-string", path.display())
                });
                if !list.iter().any(|e| e == v) {
                    list.push(v.to_string());
                }
            }
            rows.push((version.to_string(), kind.clone(), list));
        }
    }
    rows.sort();
    let mut text = String::from(
        "/// `(version, kind, apiVersions serving it)` of each embedded `index.json`.\n\
         static KIND_INDEX: &[(&str, &str, &[&str])] = &[\n",
    );
    for (version, kind, served) in rows {
        text.push_str(&format!("    ({version:?}, {kind:?}, &{served:?}),\n"));
    }
    text.push_str("];\n");
    std::fs::write(out.join("kind_index.rs"), text).expect("write kind_index.rs");
}

fn sorted(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    paths.sort();
    paths
}
