//! The committed schemas are what the generator writes: regenerate the default
//! version (1.37) into a temporary directory with the xtask and compare. Also
//! checks that `src/schema/embedded.rs` embeds exactly the committed files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn json_files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect()
}

#[test]
fn committed_schemas_match_the_generator() {
    let version = mclint::schema::newest_version();
    let tmp = tempfile::tempdir().unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // The xtask's own target directory (as `gen-schemas --all` uses), so the
    // k8s-openapi build neither waits for nor blocks the workspace build lock.
    let status = Command::new(cargo)
        .current_dir(repo())
        .arg("run")
        .arg("--quiet")
        .arg("--target-dir")
        .arg(repo().join("target/xtask"))
        .args(["-p", "xtask", "--", "gen-schemas", "--out"])
        .arg(tmp.path())
        .status()
        .expect("run cargo");
    assert!(status.success(), "the xtask failed: {status}");

    let fresh_dir = tmp.path().join(format!("v{version}"));
    let committed_dir = repo().join(format!("schemas/v{version}"));
    let fresh = json_files(&fresh_dir);
    let committed = json_files(&committed_dir);
    let missing: Vec<_> = fresh.difference(&committed).collect();
    let extra: Vec<_> = committed.difference(&fresh).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "schemas/v{version} is out of date: generated but not committed {missing:?}; committed but not generated {extra:?}\nrun: cargo run -p xtask -- gen-schemas --all"
    );
    for name in &fresh {
        let new = std::fs::read_to_string(fresh_dir.join(name)).unwrap();
        let old = std::fs::read_to_string(committed_dir.join(name)).unwrap();
        if new != old {
            let diff = similar::TextDiff::from_lines(&old, &new)
                .unified_diff()
                .context_radius(3)
                .header(
                    &format!("schemas/v{version}/{name} (committed)"),
                    &format!("{name} (generated)"),
                )
                .to_string();
            panic!(
                "schemas/v{version}/{name} differs from what the generator writes \
                 (run: cargo run -p xtask -- gen-schemas --all):\n{diff}"
            );
        }
    }
}

#[test]
fn every_committed_schema_is_embedded() {
    let embedded: BTreeSet<(String, String)> = mclint::schema::embedded::FILES
        .iter()
        .map(|(v, n, _)| (v.to_string(), n.to_string()))
        .collect();
    let mut on_disk = BTreeSet::new();
    for entry in std::fs::read_dir(repo().join("schemas"))
        .unwrap()
        .filter_map(Result::ok)
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(v) = name.strip_prefix('v').filter(|_| entry.path().is_dir()) {
            for f in json_files(&entry.path()) {
                on_disk.insert((v.to_string(), f));
            }
        }
    }
    assert!(!on_disk.is_empty());
    assert_eq!(
        embedded, on_disk,
        "src/schema/embedded.rs is out of date; run: cargo run -p xtask -- gen-schemas --all"
    );
}
