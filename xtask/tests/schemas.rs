//! The committed schemas are what the generator writes, and they cover every
//! kind k8s-openapi defines.
//!
//! These run the xtask binary that `cargo test` has already built for this
//! package (`CARGO_BIN_EXE_xtask`, default feature: the newest version), so
//! k8s-openapi is compiled once for the whole test run, in the shared target
//! directory, and not a second time in one of its own.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn xtask(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("run the xtask");
    assert!(
        out.status.success(),
        "xtask {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json_files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect()
}

/// Regenerates the newest version into a temporary directory and compares
/// byte for byte (the other versions use the same code, each in its own
/// build: `gen-schemas --all`).
#[test]
fn committed_schemas_match_the_generator() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().to_str().unwrap();
    xtask(&["gen-schemas", "--out", out]);
    let versions: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(versions.len(), 1, "{versions:?}");
    let version = &versions[0];
    let fresh_dir = tmp.path().join(version);
    let committed_dir = repo().join("schemas").join(version);
    let fresh = json_files(&fresh_dir);
    let committed = json_files(&committed_dir);
    let missing: Vec<_> = fresh.difference(&committed).collect();
    let extra: Vec<_> = committed.difference(&fresh).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "schemas/{version} is out of date: generated but not committed {missing:?}; committed but not generated {extra:?}\nrun: cargo run -p xtask -- gen-schemas --all"
    );
    for name in &fresh {
        let new = std::fs::read_to_string(fresh_dir.join(name)).unwrap();
        let old = std::fs::read_to_string(committed_dir.join(name)).unwrap();
        if new != old {
            let diff = similar::TextDiff::from_lines(&old, &new)
                .unified_diff()
                .context_radius(3)
                .header(
                    &format!("schemas/{version}/{name} (committed)"),
                    &format!("{name} (generated)"),
                )
                .to_string();
            panic!(
                "schemas/{version}/{name} differs from what the generator writes \
                 (run: cargo run -p xtask -- gen-schemas --all):\n{diff}"
            );
        }
    }
}

/// Every kind in k8s-openapi's source, for every version, has a schema, and
/// the generated kind lists are current.
#[test]
fn the_kind_lists_are_current() {
    xtask(&["gen-kind-lists", "--check"]);
}

#[test]
fn every_served_kind_has_a_schema() {
    xtask(&["check-coverage"]);
}

/// The coverage check fails, naming version, apiVersion and kind, where a
/// schema or an index entry is missing.
#[test]
fn a_kind_without_a_schema_fails_the_coverage_check() {
    let tmp = tempfile::tempdir().unwrap();
    let v = tmp.path().join("v1.29");
    std::fs::create_dir(&v).unwrap();
    // The index lists CustomResourceDefinition, but its file is missing.
    std::fs::write(
        v.join("index.json"),
        r#"{"kinds": {"CustomResourceDefinition": ["apiextensions.k8s.io/v1"]}}"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["check-coverage", "--schemas"])
        .arg(tmp.path())
        .output()
        .expect("run the xtask");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    for missing in [
        "1.29 apiextensions.k8s.io/v1 CustomResourceDefinition",
        "1.29 storage.k8s.io/v1 StorageClass",
        "1.37 admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration",
        "1.37 apiregistration.k8s.io/v1 APIService",
        "1.37 v1 Pod",
    ] {
        assert!(stderr.contains(missing), "{missing}: {stderr}");
    }
}
