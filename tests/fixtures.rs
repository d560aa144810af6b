//! Every rule's fixtures: `tests/fixtures/<rule-id>/fail*` must raise the rule,
//! `pass*` must not.

use std::path::Path;

use mclint::check::{CheckOptions, check};
use mclint::manifest::read_inputs;
use mclint::rules::RULES;

#[test]
fn fixtures_raise_exactly_their_rule() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut failures = Vec::new();
    let mut checked = 0;
    for rule in RULES {
        let dir = root.join(rule.id);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        files.sort();
        for file in files {
            let name = file.file_name().unwrap().to_string_lossy().to_string();
            let (inputs, errors) = read_inputs(std::slice::from_ref(&file), &mut std::io::empty());
            assert!(errors.is_empty(), "{}: {errors:?}", file.display());
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
