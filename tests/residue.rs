//! `mclint check` runs the rules over one document at a time on batches of
//! documents, cuts each down to what the rules over the whole set read
//! (`src/residue.rs`), and runs those last. These tests run the same inputs
//! the plain way too (every document kept whole, every rule over all of
//! them) and require the very same report: findings (message, object, field,
//! line, suppression), counts and the list of what was checked. A rule that
//! reads another document but is marked `Scope::Document`, or a set rule
//! that reads a field the residue cuts, shows up here.

mod support;

use std::path::{Path, PathBuf};

use mclint::check::{CheckOptions, Pass, Report, check};
use mclint::manifest::{Input, InputKind, read_inputs};

fn shown(report: &Report) -> String {
    let mut s = format!(
        "documents {} objects {} configs {} suppressed {} skipped {}\n",
        report.documents, report.objects, report.configs, report.suppressed, report.skipped
    );
    for f in &report.findings {
        s.push_str(&format!(
            "{} {} {:?} {:?} {} {:?} {} | {}\n",
            f.rule,
            f.severity,
            f.object,
            f.location.document,
            f.location.path,
            f.location.line,
            f.suppressed,
            f.message
        ));
    }
    for c in &report.checked {
        s.push_str(&format!("checked {c:?}\n"));
    }
    s
}

/// The lines only one report has (the first 10 each way).
fn first_difference(a: &str, b: &str) -> String {
    let only = |x: &str, y: &str| -> Vec<String> {
        let ys: std::collections::HashSet<&str> = y.lines().collect();
        x.lines()
            .filter(|l| !ys.contains(l))
            .take(10)
            .map(str::to_string)
            .collect()
    };
    let (wa, wb) = (only(a, b), only(b, a));
    if !wa.is_empty() || !wb.is_empty() {
        return format!(
            "only whole:\n  {}\nonly batched:\n  {}",
            wa.join("\n  "),
            wb.join("\n  ")
        );
    }
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {i}:\n  whole:   {x}\n  batched: {y}");
        }
    }
    format!(
        "one report is longer: {} vs {} lines",
        a.lines().count(),
        b.lines().count()
    )
}

/// Checks `inputs` whole, in batches of one document and in the default
/// batches, and fails on the first difference.
fn same_report(what: &str, inputs: &[Input], options: &CheckOptions) -> usize {
    let whole = shown(&check(
        inputs,
        &CheckOptions {
            pass: Pass::Whole,
            ..options.clone()
        },
    ));
    for pass in [Pass::Batches(1), Pass::Batches(7), Pass::default()] {
        let batched = shown(&check(
            inputs,
            &CheckOptions {
                pass,
                ..options.clone()
            },
        ));
        assert!(
            whole == batched,
            "{what}, {pass:?}: {}",
            first_difference(&whole, &batched)
        );
    }
    whole.lines().count()
}

fn read(path: &Path) -> Vec<Input> {
    let (inputs, errors) = read_inputs(&[path.to_path_buf()], &mut std::io::empty());
    assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    inputs
}

#[test]
fn every_rule_fixture_gives_the_same_report_batched() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&root)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "lua")
            )
        })
        .collect();
    files.sort();
    assert!(files.len() > 190, "only {} fixtures", files.len());
    for file in &files {
        same_report(
            &file.display().to_string(),
            &read(file),
            &CheckOptions::default(),
        );
    }
    // All of them at once: every relation between the fixtures' objects too.
    let all: Vec<Input> = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e != "lua"))
        .flat_map(|f| read(f))
        .collect();
    let lines = same_report("every fixture together", &all, &CheckOptions::default());
    assert!(lines > 500, "{lines}");
}

#[test]
fn the_chart_renderings_give_the_same_report_batched() {
    let ci = support::repo().join("charts/distributed-memcached/ci");
    let mut values: Vec<PathBuf> = std::fs::read_dir(&ci)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    values.sort();
    assert!(values.len() >= 8);
    let mut all = Vec::new();
    for v in &values {
        let text = support::helm_template(
            "rel",
            "cache",
            &["-f", v.to_str().unwrap(), "--kube-version", "1.33.0"],
        );
        let input = Input {
            name: v.file_name().unwrap().to_string_lossy().into(),
            kind: InputKind::Yaml,
            text,
        };
        same_report(
            &v.display().to_string(),
            std::slice::from_ref(&input),
            &CheckOptions::default(),
        );
        all.push(input);
    }
    same_report("every rendering together", &all, &CheckOptions::default());
}

#[test]
fn the_real_world_corpus_gives_the_same_report_batched() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realworld-manifests");
    if !dir.join("index.jsonl").is_file() {
        eprintln!("../shared/realworld-manifests is not here; skipped");
        return;
    }
    let inputs = read(&dir);
    assert!(inputs.len() > 1000);
    // As one rendering, so that Services, PDBs and NetworkPolicies of every
    // chart meet every pod template, and suppressions and severities apply.
    let lines = same_report("the real-world corpus", &inputs, &CheckOptions::default());
    assert!(lines > 1829, "{lines}");
}
