//! Every rule's fixtures: `tests/fixtures/<rule-id>/fail*` must raise the rule,
//! `pass*` must not.

use std::path::{Path, PathBuf};

use mclint::check::{CheckOptions, check};
use mclint::manifest::{Input, read_inputs};
use mclint::rules::RULES;

/// The fixtures of a rule, sorted: (path, file name, inputs read from it).
fn fixtures(root: &Path, rule: &str) -> Vec<(PathBuf, String, Vec<Input>)> {
    let Ok(entries) = std::fs::read_dir(root.join(rule)) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let name = file.file_name().unwrap().to_string_lossy().to_string();
            let (inputs, errors) = read_inputs(std::slice::from_ref(&file), &mut std::io::empty());
            assert!(errors.is_empty(), "{}: {errors:?}", file.display());
            (file, name, inputs)
        })
        .collect()
}

#[test]
fn fixtures_raise_exactly_their_rule() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut failures = Vec::new();
    let mut checked = 0;
    for rule in RULES {
        for (file, name, inputs) in fixtures(&root, rule.id) {
            let report = check(&inputs, &CheckOptions::default());
            let raised = report.findings.iter().any(|f| f.rule == rule.id);
            checked += 1;
            if name.starts_with("fail") && !raised {
                failures.push(format!(
                    "{}: expected `{}`, got {:?}",
                    file.display(),
                    rule.id,
                    report
                        .findings
                        .iter()
                        .map(|f| (f.rule, &f.message))
                        .collect::<Vec<_>>()
                ));
            }
            if name.starts_with("pass") && raised {
                let f: Vec<_> = report
                    .findings
                    .iter()
                    .filter(|f| f.rule == rule.id)
                    .map(|f| &f.message)
                    .collect();
                failures.push(format!(
                    "{}: `{}` raised on a passing fixture: {f:?}",
                    file.display(),
                    rule.id
                ));
            }
        }
    }
    assert!(checked > 0);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Each rule alone on each of its fixtures (`--select RULE`, as ruff's rule
/// tests run), its findings snapshotted: message, object, field, line and
/// count. A `fail*` fixture raises the rule at least once and nothing else
/// runs; a `pass*` fixture raises nothing at all.
#[test]
fn each_rule_alone_on_its_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let shown_root = format!("{}/", root.display());
    let mut failures = Vec::new();
    for rule in RULES {
        let files = fixtures(&root, rule.id);
        if files.is_empty() {
            continue;
        }
        let mut snapshot = String::new();
        for (file, name, inputs) in files {
            let options = CheckOptions {
                select: vec![rule.id.to_string()],
                ..CheckOptions::default()
            };
            let report = check(&inputs, &options);
            let others: Vec<_> = report
                .findings
                .iter()
                .filter(|f| f.rule != rule.id)
                .map(|f| f.rule)
                .collect();
            if !others.is_empty() {
                failures.push(format!(
                    "{}: with only `{}` selected, other rules ran: {others:?}",
                    file.display(),
                    rule.id
                ));
            }
            let n = report.findings.len();
            if name.starts_with("fail") && n == 0 {
                failures.push(format!(
                    "{}: `{}` alone raised nothing",
                    file.display(),
                    rule.id
                ));
            }
            if name.starts_with("pass") && n > 0 {
                failures.push(format!(
                    "{}: `{}` raised on a passing fixture",
                    file.display(),
                    rule.id
                ));
            }
            snapshot.push_str(&format!("== {name}: {n}\n"));
            for f in &report.findings {
                let object = f.object.as_ref().map(|o| o.to_string()).unwrap_or_default();
                let line = f.location.line.map(|l| l.to_string()).unwrap_or("-".into());
                snapshot.push_str(&format!(
                    "{} line {line} {object} {}\n  {}\n",
                    f.severity,
                    f.location.path,
                    f.message.replace(&shown_root, "")
                ));
            }
        }
        insta::with_settings!({snapshot_suffix => rule.id, prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!("fixture", snapshot);
        });
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
