//! `scripts/lint-chart`, the main job, with the mclint of this build
//! (`MCLINT`): its standard output is only mclint's reports (one JSON
//! document per mode with `--format json`; the mode headers go to standard
//! error), and an argument mclint refuses is reported once, exit 2.

mod support;

use std::process::Command;

use support::repo;

fn lint_chart(args: &[&str]) -> (Option<i32>, String, String) {
    let o = Command::new(repo().join("scripts/lint-chart"))
        .args(args)
        .env("MCLINT", env!("CARGO_BIN_EXE_mclint"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn json_output_is_one_document_per_mode_with_headers_on_stderr() {
    let modes: Vec<String> = std::fs::read_dir(repo().join("charts/distributed-memcached/ci"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("-values.yaml"))
        .collect();
    assert!(!modes.is_empty());
    let (code, out, err) = lint_chart(&["--format", "json", "--fail-on", "never"]);
    assert_eq!(code, Some(0), "{err}");
    let docs: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&out)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("not a stream of JSON documents ({e}):\n{out}"));
    assert_eq!(docs.len(), modes.len(), "{out}");
    for d in &docs {
        assert!(d["summary"]["objects"].as_u64().unwrap() > 0, "{d}");
    }
    assert!(!out.contains("=== mode"), "{out}");
    assert_eq!(err.matches("=== mode ").count(), modes.len(), "{err}");
}

#[test]
fn a_bad_argument_is_reported_once_with_exit_2() {
    let (code, out, err) = lint_chart(&["--no-such-flag"]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert_eq!(err.matches("unexpected argument").count(), 1, "{err}");
    assert!(!err.contains("=== mode"), "no mode ran: {err}");
    assert_eq!(out, "");
}
