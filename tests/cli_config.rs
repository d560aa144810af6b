//! Choosing rules (`--select`, `--ignore`, `.mclint.yaml`, `--config`),
//! suppressing them per object, colour, `mclint rules` and `mclint explain`.

mod support;

use std::path::Path;
use std::process::Command;

use support::{Run, mclint, run};

/// Findings of four rules: a Service selecting nothing, a probe on an
/// undeclared named port, a duplicate object, and a list document.
const INPUT: &str = r#"apiVersion: v1
kind: Service
metadata:
  name: lonely
spec:
  selector: {app: nobody}
  ports: [{port: 11211}]
---
apiVersion: v1
kind: Pod
metadata:
  name: memcached
spec:
  containers:
    - name: memcached
      image: memcached:1.6.38
      livenessProbe:
        tcpSocket: {port: memcache}
---
apiVersion: v1
kind: Pod
metadata:
  name: memcached
spec:
  containers:
    - name: memcached
      image: memcached:1.6.38
---
- not an object
"#;

const FOUR: &str = "service-selects-no-pods,named-port-undeclared,duplicate-object,not-an-object";

fn input_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.yaml"), INPUT).unwrap();
    dir
}

fn check_in(dir: &Path, args: &[&str]) -> Run {
    run(
        mclint()
            .current_dir(dir)
            .args(["check", "--color", "never"])
            .args(args),
        b"",
    )
}

/// The rule ids of the findings shown, in order.
fn rules_shown(r: &Run) -> Vec<String> {
    r.stdout
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let open = l.find('[')?;
            let close = l.find(']')?;
            l[..open]
                .chars()
                .all(|c| c.is_ascii_lowercase())
                .then(|| l[open + 1..close].to_string())
        })
        .collect()
}

#[test]
fn select_and_ignore_take_comma_separated_and_repeated_lists() {
    let dir = input_dir();
    let all = check_in(dir.path(), &["--select", FOUR, "in.yaml"]);
    let mut ids = rules_shown(&all);
    ids.sort();
    assert_eq!(
        ids,
        [
            "duplicate-object",
            "named-port-undeclared",
            "not-an-object",
            "service-selects-no-pods"
        ]
    );
    let some = check_in(
        dir.path(),
        &["--select", "duplicate-object,not-an-object", "in.yaml"],
    );
    assert_eq!(rules_shown(&some), ["duplicate-object", "not-an-object"]);
    let some = check_in(
        dir.path(),
        &[
            "--select",
            "duplicate-object",
            "--select",
            "not-an-object",
            "in.yaml",
        ],
    );
    assert_eq!(rules_shown(&some), ["duplicate-object", "not-an-object"]);
    let fewer = check_in(
        dir.path(),
        &[
            "--select",
            FOUR,
            "--ignore",
            "duplicate-object,not-an-object",
            "--ignore",
            "service-selects-no-pods",
            "in.yaml",
        ],
    );
    assert_eq!(rules_shown(&fewer), ["named-port-undeclared"]);
}

#[test]
fn unknown_rule_ids_exit_2_with_a_suggestion() {
    let dir = input_dir();
    let r = check_in(
        dir.path(),
        &[
            "--select",
            "duplicate-object,service-selects-no-pod",
            "in.yaml",
        ],
    );
    let r2 = check_in(dir.path(), &["--ignore", "no-such-thing", "in.yaml"]);
    let r3 = run(mclint().args(["explain", "pdb-select-no-pods"]), b"");
    insta::assert_snapshot!(format!(
        "{}\n{}\n{}",
        r.snapshot(),
        r2.snapshot(),
        r3.snapshot()
    ));
}

#[test]
fn config_is_found_in_this_directory_or_a_parent() {
    let dir = input_dir();
    std::fs::write(
        dir.path().join(".mclint.yaml"),
        "select: [service-selects-no-pods, not-an-object, duplicate-object]\nignore: [duplicate-object]\nseverity:\n  not-an-object: warning\n",
    )
    .unwrap();
    let here = check_in(dir.path(), &["in.yaml"]);
    insta::assert_snapshot!(here.snapshot());
    // From a subdirectory: the parent's config applies.
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let below = check_in(&dir.path().join("sub"), &["../in.yaml"]);
    assert_eq!(rules_shown(&below), rules_shown(&here));
    // --config names another file and discovery is skipped.
    std::fs::write(
        dir.path().join("other.yaml"),
        "select: [named-port-undeclared]\n",
    )
    .unwrap();
    let named = check_in(
        &dir.path().join("sub"),
        &["--config", "../other.yaml", "../in.yaml"],
    );
    assert_eq!(rules_shown(&named), ["named-port-undeclared"]);
    // --ignore adds to the config's list; --select replaces it.
    let more = check_in(dir.path(), &["--ignore", "not-an-object", "in.yaml"]);
    assert_eq!(rules_shown(&more), ["service-selects-no-pods"]);
    let only = check_in(dir.path(), &["--select", "not-an-object", "in.yaml"]);
    assert_eq!(rules_shown(&only), ["not-an-object"]);
    // The config's ignore list still applies to a --select.
    let ignored = check_in(
        dir.path(),
        &[
            "--select",
            "duplicate-object,named-port-undeclared",
            "in.yaml",
        ],
    );
    assert_eq!(rules_shown(&ignored), ["named-port-undeclared"]);
}

#[test]
fn a_bad_config_exits_2_naming_file_and_line() {
    let dir = input_dir();
    std::fs::write(
        dir.path().join(".mclint.yaml"),
        "select: [not-an-object]\nignroe: [x]\n",
    )
    .unwrap();
    let r1 = check_in(dir.path(), &["in.yaml"]);
    std::fs::write(
        dir.path().join("c2.yaml"),
        "severity:\n  not-an-object: fatal\n",
    )
    .unwrap();
    let r2 = check_in(dir.path(), &["--config", "c2.yaml", "in.yaml"]);
    std::fs::write(dir.path().join("c3.yaml"), "ignore: [duplicate-objects]\n").unwrap();
    let r3 = check_in(dir.path(), &["--config", "c3.yaml", "in.yaml"]);
    let r4 = check_in(dir.path(), &["--config", "missing.yaml", "in.yaml"]);
    for r in [&r1, &r2, &r3, &r4] {
        assert_eq!(r.code, 2, "{}", r.snapshot());
        assert!(r.stdout.is_empty(), "{}", r.stdout);
    }
    let all = [r1, r2, r3, r4]
        .iter()
        .map(Run::snapshot)
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!(all.replace(&dir.path().display().to_string(), "[TMP]"));
}

#[test]
fn the_ignore_annotation_suppresses_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let input = r#"apiVersion: v1
kind: Service
metadata:
  name: from-another-release
  annotations:
    mclint.io/ignore: "service-selects-no-pods, port-number-undeclared -- the pods come from the app chart"
spec:
  selector: {app: elsewhere}
---
apiVersion: v1
kind: Service
metadata:
  name: forgotten
  annotations:
    mclint.io/ignore: "duplicate-object -- not the rule that fires"
spec:
  selector: {app: nobody}
---
apiVersion: v1
kind: Pod
metadata:
  name: everything-ignored
  annotations:
    mclint.io/ignore: all
spec:
  containers:
    - name: c
      image: memcached:1.6.38
      readinessProbe:
        tcpSocket: {port: nope}
"#;
    std::fs::write(dir.path().join("in.yaml"), input).unwrap();
    let r = check_in(
        dir.path(),
        &[
            "--select",
            "service-selects-no-pods,named-port-undeclared",
            "in.yaml",
        ],
    );
    insta::assert_snapshot!(r.snapshot());
    assert!(
        r.stdout
            .ends_with("3 documents, 3 objects: 1 error, 0 warnings, 0 infos, 2 suppressed\n"),
        "{}",
        r.stdout
    );
    // Suppressed findings are left out of JSON (and counted in its summary) and
    // GitHub output, and marked in SARIF.
    let json = check_in(
        dir.path(),
        &[
            "--select",
            "service-selects-no-pods,named-port-undeclared",
            "-f",
            "json",
            "in.yaml",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    assert_eq!(v["summary"]["suppressed"], 2);
    let sarif = check_in(
        dir.path(),
        &[
            "--select",
            "service-selects-no-pods,named-port-undeclared",
            "-f",
            "sarif",
            "in.yaml",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(
        results
            .iter()
            .filter(|r| r.get("suppressions").is_some())
            .count(),
        2
    );
    // All findings suppressed: exit 0.
    let only = check_in(
        dir.path(),
        &["--select", "named-port-undeclared", "in.yaml"],
    );
    assert_eq!(only.code, 0, "{}", only.stdout);
}

fn has_colour(s: &str) -> bool {
    s.contains("\x1b[")
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let dir = input_dir();
    let with = |color: &str, no_color: Option<&str>| {
        let mut cmd = mclint();
        cmd.current_dir(dir.path())
            .args(["check", "--select", FOUR, "--color", color, "in.yaml"]);
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        run(&mut cmd, b"").stdout
    };
    assert!(has_colour(&with("always", None)));
    // An explicit --color always wins over NO_COLOR.
    assert!(has_colour(&with("always", Some("1"))));
    assert!(!has_colour(&with("never", None)));
    // Not a terminal: no colour.
    assert!(!has_colour(&with("auto", None)));
    // The same text apart from the escapes.
    let stripped = with("always", None)
        .replace("\x1b[0m", "")
        .replace("\x1b[1;4m", "")
        .replace("\x1b[1;31m", "")
        .replace("\x1b[2m", "");
    assert_eq!(stripped, with("never", None));
}

/// `--color auto` on a terminal (a pseudo-terminal from util-linux `script`):
/// colour, unless NO_COLOR is set to something non-empty.
#[test]
fn colour_on_a_terminal_honours_no_color() {
    let dir = input_dir();
    let on_tty = |no_color: Option<&str>| {
        let cmdline = format!(
            "{} check --select not-an-object in.yaml",
            env!("CARGO_BIN_EXE_mclint")
        );
        let mut cmd = Command::new("script");
        cmd.current_dir(dir.path())
            .args(["-qec", &cmdline, "/dev/null"]);
        match no_color {
            Some(v) => cmd.env("NO_COLOR", v),
            None => cmd.env_remove("NO_COLOR"),
        };
        let out = cmd.output().expect("util-linux `script` runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let plain = on_tty(None);
    assert!(plain.contains("not-an-object"), "{plain}");
    assert!(has_colour(&plain), "{plain:?}");
    assert!(!has_colour(&on_tty(Some("1"))));
    // An empty NO_COLOR does not count (no-color.org).
    assert!(has_colour(&on_tty(Some(""))));
}

#[test]
fn rules_lists_every_rule() {
    let r = run(mclint().arg("rules"), b"");
    assert_eq!(r.code, 0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), mclint::rules::RULES.len());
    for (line, rule) in lines.iter().zip(mclint::rules::RULES) {
        let mut cols = line.split_whitespace();
        assert_eq!(cols.next(), Some(rule.id));
        assert_eq!(cols.next(), Some(rule.severity.as_str()));
        assert!(line.ends_with(rule.summary), "{line}");
    }
    // Columns line up: every summary starts at the same column.
    let starts: std::collections::BTreeSet<usize> = lines
        .iter()
        .zip(mclint::rules::RULES)
        .map(|(line, rule)| line.len() - rule.summary.len())
        .collect();
    assert_eq!(starts.len(), 1, "{}", r.stdout);
    let md = run(mclint().args(["rules", "--format", "markdown"]), b"");
    assert_eq!(md.code, 0);
    assert_eq!(md.stdout, mclint::rules::markdown());
}

#[test]
fn explain_prints_the_docs() {
    let r = run(
        mclint().args(["explain", "statefulset-service-missing"]),
        b"",
    );
    insta::assert_snapshot!(r.snapshot());
}
