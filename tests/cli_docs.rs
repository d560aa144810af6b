//! `docs/rules.md` is what `mclint rules --format markdown` prints. After adding
//! or changing a rule, regenerate it with
//! `MCLINT_BLESS=1 cargo test --test cli_docs` (or
//! `cargo run -- rules --format markdown > docs/rules.md`).

mod support;

use support::{mclint, repo, run};

#[test]
fn docs_rules_md_is_generated_from_the_rule_table() {
    let r = run(mclint().args(["rules", "--format", "markdown"]), b"");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let path = repo().join("docs/rules.md");
    if std::env::var_os("MCLINT_BLESS").is_some_and(|v| !v.is_empty()) {
        std::fs::write(&path, &r.stdout).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != r.stdout {
        let diff = similar::TextDiff::from_lines(&committed, &r.stdout);
        panic!(
            "docs/rules.md is out of date; regenerate it with `MCLINT_BLESS=1 cargo test --test cli_docs`:\n{}",
            diff.unified_diff()
                .context_radius(2)
                .header("docs/rules.md", "mclint rules --format markdown")
        );
    }
    // Every rule has its section.
    for rule in mclint::rules::RULES {
        assert!(
            committed.contains(&format!("\n## {}\n", rule.id)),
            "{} has no section",
            rule.id
        );
    }
}
