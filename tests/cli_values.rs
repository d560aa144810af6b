//! `mclint values`: values files against the chart's values.schema.json, with
//! the values file's line, "did you mean", helm's merge order and `check`'s
//! formats and exit codes.

mod support;

use support::{mclint, repo, run};

fn chart() -> String {
    repo()
        .join("charts/distributed-memcached")
        .display()
        .to_string()
}

/// Runs `mclint values ARGS` in a directory holding `files`.
fn values(files: &[(&str, &str)], args: &[&str]) -> support::Run {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let chart = chart();
    let mut cmd = mclint();
    cmd.current_dir(dir.path())
        .args(["values", "--chart", &chart, "--color", "never"])
        .args(args);
    run(&mut cmd, b"")
}

const TYPOS: &str = "mode: cache
cache:
  memoryMib: 1024
proxy:
  settings:
    backend_conect_timeout: 5
";

#[test]
fn misspelled_keys_get_their_line_and_a_suggestion() {
    let r = values(&[("values.yaml", TYPOS)], &["-f", "values.yaml"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    insta::assert_snapshot!(r.snapshot());
}

#[test]
fn json_names_the_file_line_and_key() {
    let r = values(
        &[("values.yaml", TYPOS)],
        &["-f", "values.yaml", "--format", "json"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    let at: Vec<_> = findings
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap(),
                f["line"].as_u64().unwrap(),
                f["path"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        at,
        [
            ("values-schema", 3, "/cache/memoryMib"),
            ("values-schema", 6, "/proxy/settings/backend_conect_timeout"),
        ]
    );
    assert!(
        findings[1]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `backend_connect_timeout`?")
    );
    assert_eq!(findings[0]["help"], "Rename the key to `memoryMiB`.");
    assert_eq!(doc["summary"]["errors"], 2);
}

#[test]
fn later_files_override_earlier_ones_and_errors_point_at_the_file_that_set_the_value() {
    let bad = "cache:\n  threads: four\n";
    let good = "cache:\n  threads: 2\n";
    // The later file fixes the earlier one's value: clean.
    let r = values(
        &[("bad.yaml", bad), ("good.yaml", good)],
        &["-f", "bad.yaml", "-f", "good.yaml"],
    );
    assert_eq!(r.code, 0, "{}", r.snapshot());
    // The other way round, the value at fault is bad.yaml's, line 2.
    let r = values(
        &[("bad.yaml", bad), ("good.yaml", "\n\nmode: cache\n")],
        &["-f", "good.yaml", "-f", "bad.yaml", "--format", "json"],
    );
    assert_eq!(r.code, 1, "{}", r.snapshot());
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let f = &doc["findings"][0];
    assert_eq!(f["source"], "bad.yaml");
    assert_eq!(f["line"], 2);
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("`cache.threads` must be an integer, got the string `four`"),
        "{f}"
    );
}

#[test]
fn enum_values_get_a_suggestion_and_fail_on_decides_the_exit_code() {
    let r = values(&[("v.yaml", "mode: sidecar-failvoer\n")], &["-f", "v.yaml"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("did you mean `sidecar-failover`?"),
        "{}",
        r.stdout
    );
    let r = values(
        &[("v.yaml", "mode: sidecar-failvoer\n")],
        &["-f", "v.yaml", "--fail-on", "never"],
    );
    assert_eq!(r.code, 0);
}

#[test]
fn clean_values_exit_0() {
    let r = values(
        &[("v.yaml", "cache:\n  memoryMiB: 512\n  replicas: 3\n")],
        &["-f", "v.yaml"],
    );
    assert_eq!(r.code, 0, "{}", r.snapshot());
    assert!(r.stdout.contains("0 errors"), "{}", r.stdout);
}

#[test]
fn yaml_errors_and_duplicate_keys_are_findings() {
    let r = values(
        &[("v.yaml", "cache:\n  memoryMiB: 512\n  memoryMiB: 256\n")],
        &["-f", "v.yaml", "--format", "json"],
    );
    assert_eq!(r.code, 0, "a duplicate is a warning: {}", r.snapshot());
    assert!(r.stdout.contains("\"values-yaml\""), "{}", r.stdout);
    let r = values(&[("v.yaml", "cache: [1, 2\n")], &["-f", "v.yaml"]);
    assert_eq!(r.code, 1, "{}", r.snapshot());
    assert!(r.stdout.contains("values-yaml"), "{}", r.stdout);
}

/// `mclint values -f v.yaml --chart .` run in `dir`, which is the chart.
fn values_in_chart_dir(dir: &std::path::Path) -> support::Run {
    std::fs::write(dir.join("v.yaml"), "mode: cache\n").unwrap();
    run(
        mclint()
            .current_dir(dir)
            .args(["values", "-f", "v.yaml", "--chart", "."]),
        b"",
    )
}

#[test]
fn what_cannot_be_checked_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(
        mclint().args(["values", "-f", "missing.yaml", "--chart", &chart()]),
        b"",
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("missing.yaml"), "{}", r.stderr);
    let r = values_in_chart_dir(dir.path());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no values.schema.json"), "{}", r.stderr);
    // -f is required.
    let r = run(mclint().args(["values", "--chart", &chart()]), b"");
    assert_eq!(r.code, 2);
}

/// A chart is input too: a values.schema.json linked to a device is read up
/// to the limit and refused, not read forever.
#[cfg(unix)]
#[test]
fn a_schema_linked_to_a_device_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("values.schema.json")).unwrap();
    let r = values_in_chart_dir(dir.path());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("values.schema.json"), "{}", r.stderr);
    assert!(r.stderr.contains("larger than 8 MiB"), "{}", r.stderr);
}

#[test]
fn explain_suggests_the_nearest_ids_for_unknown_or_partial_ones() {
    let partial = run(mclint().args(["explain", "unit-slip"]), b"");
    let several = run(mclint().args(["explain", "below-peak"]), b"");
    let typo = run(mclint().args(["explain", "memory-limit-belwo-peak"]), b"");
    let none = run(mclint().args(["explain", "zzzzzzzz"]), b"");
    for r in [&partial, &several, &typo, &none] {
        assert_eq!(r.code, 2);
        assert!(r.stdout.is_empty());
    }
    insta::assert_snapshot!(format!(
        "{}\n{}\n{}\n{}",
        partial.snapshot(),
        several.snapshot(),
        typo.snapshot(),
        none.snapshot()
    ));
}

#[test]
fn keys_of_other_charts_are_refused_with_the_value_to_use() {
    // The schema lets these through so that the chart can say what to use
    // instead; `mclint values` says it too, before helm renders anything.
    let text = "replicaCount: 3\nresources:\n  limits:\n    memory: 1Gi\ncache:\n  replicas: 2\n";
    let r = values(&[("values.yaml", text)], &["-f", "values.yaml"]);
    assert_eq!(r.code, 1, "{}", r.snapshot());
    assert!(
        r.stdout.contains("line 1 /replicaCount")
            && r.stdout.contains("did you mean `cache.replicas`?"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("line 2 /resources"), "{}", r.stdout);
    // Every such key of the schema names a value the chart has.
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("charts/distributed-memcached/values.schema.json"))
            .unwrap(),
    )
    .unwrap();
    let props = schema["properties"].as_object().unwrap();
    let mut checked = 0;
    for (k, v) in props {
        if let Some(instead) = v.get("x-use-instead").and_then(|x| x.as_str()) {
            checked += 1;
            for name in instead.split(" or ") {
                let first = name.split('.').next().unwrap();
                assert!(props.contains_key(first), "{k}: `{name}` is not a value");
            }
        }
    }
    assert!(checked >= 10, "{checked}");
}
