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

/// The oldest Kubernetes version the chart asks for: `kubeVersion` in
/// Chart.yaml (`>=1.29.0-0`) if set, else its README's "Kubernetes 1.29 or newer".
fn chart_minimum() -> (u32, u32) {
    let chart = repo().join("charts/distributed-memcached");
    let yaml = std::fs::read_to_string(chart.join("Chart.yaml")).unwrap();
    let readme = std::fs::read_to_string(chart.join("README.md")).unwrap();
    let from_yaml = yaml
        .lines()
        .find_map(|l| l.trim().strip_prefix("kubeVersion:"))
        .map(|v| {
            v.trim()
                .trim_matches(['"', '\''])
                .trim_start_matches(">=")
                .to_string()
        });
    let text = from_yaml.unwrap_or_else(|| {
        let at = readme
            .find("Kubernetes 1.")
            .expect("the chart README names its minimum Kubernetes version");
        readme[at + "Kubernetes ".len()..].to_string()
    });
    let mut it = text.split(|c: char| !c.is_ascii_digit());
    let major = it.next().and_then(|p| p.parse().ok()).unwrap();
    let minor = it.next().and_then(|p| p.parse().ok()).unwrap();
    (major, minor)
}

#[test]
fn mclint_supports_every_version_the_chart_supports() {
    let supported = mclint::schema::supported_versions();
    let key = |v: &str| -> (u32, u32) {
        let (a, b) = v.split_once('.').unwrap();
        (a.parse().unwrap(), b.parse().unwrap())
    };
    let (major, minor) = chart_minimum();
    assert_eq!(
        key(supported[0]),
        (major, minor),
        "the chart supports Kubernetes {major}.{minor} and newer; mclint supports {supported:?}"
    );
    // No gaps between the oldest and the newest.
    for pair in supported.windows(2) {
        let (a, b) = (key(pair[0]), key(pair[1]));
        assert_eq!((a.0, a.1 + 1), b, "a gap in {supported:?}");
    }
}
