//! mclint's schema validation against the peer, kubernetes-validate (strict
//! mode, same Kubernetes version), on every document of `tests/corpus/`.
//!
//! - every `valid/` document must pass mclint and every `invalid/` one must fail;
//! - wherever the peer's verdict differs from mclint's, the file must be listed
//!   in `tests/corpus/allowlist.txt` with the reason (`path: reason`), and every
//!   listed file must still disagree (no stale entries).
//!
//! The corpus is written by `tests/corpus/generate.py`; the peer runs once, in
//! one process, through `tests/corpus/peer.py`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use mclint::check::{CheckOptions, check};
use mclint::finding::Severity;
use mclint::manifest::read_inputs;

const VERSION: &str = "1.37";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus(dir: &str) -> Vec<String> {
    let path = repo().join("tests/corpus").join(dir);
    let mut files: Vec<String> = std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .map(|n| format!("tests/corpus/{dir}/{n}"))
        .collect();
    files.sort();
    files
}

/// mclint's verdict: the error findings of the schema rules.
fn ours(file: &str) -> Vec<String> {
    let options = CheckOptions {
        select: vec!["schema-violation".into(), "api-version-not-served".into()],
        kube_version: Some(VERSION.into()),
        ..CheckOptions::default()
    };
    let (inputs, errors) = read_inputs(&[repo().join(file)], &mut std::io::empty());
    assert!(errors.is_empty(), "{file}: {errors:?}");
    check(&inputs, &options)
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{} {}: {}", f.rule, f.location.path, f.message))
        .collect()
}

/// The peer's verdict per file: `invalid` when any document is invalid.
fn peer(files: &[String]) -> BTreeMap<String, (bool, String)> {
    let python = repo().join(".tools/venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run scripts/setup (it installs kubernetes-validate)",
        python.display()
    );
    let out = Command::new(&python)
        .current_dir(repo())
        .arg("tests/corpus/peer.py")
        .arg(VERSION)
        .args(files)
        .output()
        .expect("run kubernetes-validate");
    assert!(
        out.status.success(),
        "peer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut verdicts: BTreeMap<String, (bool, String)> = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let parts: Vec<&str> = line.splitn(4, '\t').collect();
        assert_eq!(parts.len(), 4, "unexpected peer output line: {line}");
        let entry = verdicts
            .entry(parts[0].to_string())
            .or_insert((false, String::new()));
        if parts[2] == "invalid" {
            entry.0 = true;
        }
        if entry.1.is_empty() || parts[2] != "valid" {
            entry.1 = format!("{}: {}", parts[2], parts[3]);
        }
    }
    verdicts
}

fn allowlist() -> BTreeMap<String, String> {
    let path = repo().join("tests/corpus/allowlist.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut list = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (file, reason) = line
            .split_once(": ")
            .unwrap_or_else(|| panic!("allowlist.txt:{}: expected `path: reason`", i + 1));
        assert!(
            !reason.trim().is_empty(),
            "allowlist.txt:{}: no reason for {file}",
            i + 1
        );
        assert!(
            Path::new(&repo().join(file)).is_file(),
            "allowlist.txt:{}: no such file {file}",
            i + 1
        );
        assert!(
            list.insert(file.to_string(), reason.to_string()).is_none(),
            "allowlist.txt: {file} twice"
        );
    }
    list
}

#[test]
fn mclint_and_kubernetes_validate_agree_on_the_corpus() {
    let valid = corpus("valid");
    let invalid = corpus("invalid");
    assert!(valid.len() >= 200, "only {} valid documents", valid.len());
    assert!(
        invalid.len() >= 60,
        "only {} invalid documents",
        invalid.len()
    );
    let all: Vec<String> = valid.iter().chain(&invalid).cloned().collect();

    let mut problems = Vec::new();
    let mut verdicts = BTreeMap::new();
    for file in &all {
        let errors = ours(file);
        let expect_invalid = file.contains("/invalid/");
        if errors.is_empty() == expect_invalid {
            problems.push(format!(
                "{file}: mclint says {} but the corpus says {}: {errors:?}",
                if errors.is_empty() {
                    "valid"
                } else {
                    "invalid"
                },
                if expect_invalid { "invalid" } else { "valid" }
            ));
        }
        verdicts.insert(file.clone(), errors);
    }

    let peer = peer(&all);
    let allow = allowlist();
    let mut disagreements = 0;
    for file in &all {
        let ours_invalid = !verdicts[file].is_empty();
        let (peer_invalid, peer_says) = peer
            .get(file)
            .cloned()
            .unwrap_or_else(|| panic!("the peer said nothing about {file}"));
        let differs = ours_invalid != peer_invalid;
        disagreements += usize::from(differs);
        match (differs, allow.contains_key(file)) {
            (true, false) => problems.push(format!(
                "{file}: disagreement not in allowlist.txt: mclint {:?}, kubernetes-validate {peer_says}",
                verdicts[file]
            )),
            (false, true) => problems.push(format!("{file}: listed in allowlist.txt but both now agree; remove it")),
            _ => {}
        }
    }
    for file in allow.keys() {
        if !all.contains(file) {
            problems.push(format!(
                "allowlist.txt names {file}, which is not in the corpus"
            ));
        }
    }
    eprintln!(
        "{} documents, {disagreements} allowlisted disagreements with kubernetes-validate",
        all.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
