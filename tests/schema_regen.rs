//! `src/schema/embedded.rs` embeds exactly the committed schema files, and
//! mclint supports exactly the Kubernetes versions the chart supports. (That
//! the committed files are what the generator writes is checked by
//! `xtask/tests/schemas.rs`, with the xtask binary the test run already built.)

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

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
