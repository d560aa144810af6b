//! False positives on real charts: `../shared/realworld-manifests/` holds
//! rendered documents from public charts (one per file, origin in its
//! `index.jsonl`), read at test time and never copied into the project. The
//! schema and YAML rules must report no error on them except the documented
//! classes: API versions the server no longer serves (archived charts) and
//! repeated mapping keys (which kubectl and Helm accept, keeping the last).

use std::path::{Path, PathBuf};

use mclint::check::{CheckOptions, check};
use mclint::finding::Severity;
use mclint::manifest::read_inputs;

const RULES: &[&str] = &[
    "yaml-syntax",
    "yaml-duplicate-key",
    "yaml-flow-indentation",
    "not-an-object",
    "schema-violation",
    "api-version-not-served",
    "api-version-missing",
    "unknown-kind",
    "label-invalid",
    "probe-handler-invalid",
    "pod-name-duplicate",
    "resources-invalid",
    "cronjob-schedule-invalid",
    "env-name-invalid",
    "annotation-invalid",
    "port-number-invalid",
    "selector-invalid",
    "container-name-invalid",
    "job-spec-invalid",
    "object-name-invalid",
    "port-name-invalid",
];

/// The error classes the corpus is known to hold.
const DOCUMENTED: &[&str] = &["api-version-not-served", "yaml-duplicate-key"];

/// Single documents the API server refuses too: `(file suffix, message part)`.
/// nfs-client-provisioner's defaults render `nfs.server:` empty, and the API
/// server answers `spec.template.spec.volumes[0].nfs.server: Required value`.
const KNOWN_BAD: &[(&str, &str)] = &[("helm-stable/00419.yaml", "missing required field `server`")];

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realworld-manifests");
    dir.join("index.jsonl").is_file().then_some(dir)
}

#[test]
fn real_world_manifests_raise_only_documented_errors() {
    let Some(dir) = corpus() else {
        eprintln!("../shared/realworld-manifests is not here; skipped");
        return;
    };
    let (inputs, errors) = read_inputs(std::slice::from_ref(&dir), &mut std::io::empty());
    assert!(errors.is_empty(), "{errors:?}");
    assert!(inputs.len() > 1000, "only {} files", inputs.len());
    let options = CheckOptions {
        select: RULES.iter().map(|s| s.to_string()).collect(),
        kube_version: Some("1.33".into()),
        ..CheckOptions::default()
    };
    let report = check(&inputs, &options);
    let unexpected: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error && !DOCUMENTED.contains(&f.rule))
        .filter(|f| {
            !KNOWN_BAD
                .iter()
                .any(|(file, m)| f.location.file.ends_with(file) && f.message.contains(m))
        })
        .map(|f| {
            format!(
                "{} line {:?}: {} {}",
                f.location.file, f.location.line, f.rule, f.message
            )
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "{} unexpected errors on real charts:\n{}",
        unexpected.len(),
        unexpected
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // The documented classes are there, and found.
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule == "api-version-not-served"),
        "the archived charts use removed API versions"
    );
}
