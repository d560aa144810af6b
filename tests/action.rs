//! The GitHub Action: `action.yml` is well-formed and wires its inputs to
//! `scripts/action-run`, which is run here as the runner would run it, on the
//! bundled chart and on a scratch chart with a finding, with fake
//! GITHUB_STEP_SUMMARY and GITHUB_OUTPUT files.
//!
//! Not tested here (no GitHub runner): the `cargo install` step, the
//! azure/setup-helm and github/codeql-action/upload-sarif steps.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::repo;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    summary: String,
    outputs: String,
    dir: PathBuf,
}

fn action_run(cwd: &Path, out: &Path, env: &[(&str, &str)]) -> Run {
    std::fs::create_dir_all(out).unwrap();
    let summary = out.join("summary.md");
    let outputs = out.join("outputs");
    let mut cmd = Command::new("python3");
    cmd.arg(repo().join("scripts/action-run"))
        .current_dir(cwd)
        .env("MCLINT", env!("CARGO_BIN_EXE_mclint"))
        .env("HELM_BIN", repo().join("scripts/helm"))
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .env("MCLINT_OUTPUT_DIR", out.join("results"))
        .env_remove("GITHUB_ACTIONS")
        .env_remove("MCLINT_DEFER_EXIT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    Run {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        outputs: std::fs::read_to_string(&outputs).unwrap_or_default(),
        dir: out.to_path_buf(),
    }
}

fn output<'a>(run: &'a Run, name: &str) -> &'a str {
    run.outputs
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no output {name}: {}", run.outputs))
}

#[test]
fn action_yml_is_a_composite_action_running_action_run() {
    // PyYAML comes with pre-commit in the project's venv.
    let py = repo().join(".tools/venv/bin/python");
    assert!(py.is_file(), "run scripts/setup first");
    let script = r#"
import json, sys, yaml
a = yaml.safe_load(open(sys.argv[1]))
print(json.dumps(a))
"#;
    let o = Command::new(py)
        .args(["-c", script])
        .arg(repo().join("action.yml"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let a: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(a["runs"]["using"], "composite");
    for input in ["charts", "values", "kube-version", "fail-on", "sarif"] {
        assert!(a["inputs"][input].is_object(), "input {input} missing");
    }
    let steps = a["runs"]["steps"].as_array().unwrap();
    let text = serde_json::to_string(steps).unwrap();
    assert!(text.contains("scripts/action-run"), "{text}");
    assert!(
        text.contains("cargo install --locked --quiet --path"),
        "{text}"
    );
    assert!(text.contains("github/codeql-action/upload-sarif"), "{text}");
    // Every step of a composite action that runs a command needs a shell.
    for s in steps {
        if s.get("run").is_some() {
            assert_eq!(s["shell"], "bash", "{s}");
        }
    }
    // Inputs reach the script.
    let lint = steps.iter().find(|s| s["id"] == "lint").unwrap();
    for (env, input) in [
        ("MCLINT_CHARTS", "charts"),
        ("MCLINT_VALUES", "values"),
        ("MCLINT_KUBE_VERSION", "kube-version"),
        ("MCLINT_FAIL_ON", "fail-on"),
        ("MCLINT_SARIF", "sarif"),
    ] {
        assert_eq!(
            lint["env"][env],
            format!("${{{{ inputs.{input} }}}}"),
            "{env}"
        );
    }
}

#[test]
fn lints_the_bundled_chart_with_a_summary_and_sarif() {
    let tmp = tempfile::tempdir().unwrap();
    let run = action_run(
        &repo(),
        tmp.path(),
        &[
            ("MCLINT_CHARTS", "charts/distributed-memcached"),
            ("MCLINT_SARIF", "true"),
        ],
    );
    assert!(
        run.code == Some(0) || run.code == Some(1),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let ci_values = std::fs::read_dir(repo().join("charts/distributed-memcached/ci"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with("-values.yaml")
        })
        .count();
    assert!(ci_values >= 1);
    assert!(run.summary.starts_with("## mclint\n"), "{}", run.summary);
    assert!(
        run.summary
            .contains(&format!("in 1 chart(s), {ci_values} rendering(s).")),
        "{}",
        run.summary
    );
    let rows = run
        .summary
        .lines()
        .filter(|l| {
            l.starts_with("| charts/distributed-memcached | charts/distributed-memcached/ci/")
        })
        .count();
    assert_eq!(rows, ci_values, "{}", run.summary);
    // The status follows the error counts in the table.
    let errors: u64 = run
        .summary
        .lines()
        .filter(|l| l.starts_with("| charts/distributed-memcached |"))
        .map(|l| l.split('|').nth(3).unwrap().trim().parse::<u64>().unwrap())
        .sum();
    assert_eq!(output(&run, "status"), if errors == 0 { "0" } else { "1" });
    assert_eq!(run.code, Some(if errors == 0 { 0 } else { 1 }));

    let sarif_file = output(&run, "sarif-file");
    assert_eq!(
        Path::new(sarif_file),
        run.dir.join("results/mclint.sarif").as_path()
    );
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sarif_file).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"].as_array().unwrap().len(), 1);
    for r in sarif["runs"][0]["results"].as_array().unwrap() {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(
            uri.starts_with("charts/distributed-memcached/templates/"),
            "{uri}"
        );
        assert!(
            r.get("ruleIndex").is_none(),
            "merged results drop ruleIndex"
        );
    }
}

#[test]
fn a_finding_fails_the_job_and_is_listed_at_its_template() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let chart = ws.join("deploy/web");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    )
    .unwrap();
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: web\ndata: {}\n";
    std::fs::write(chart.join("templates/a.yaml"), cm).unwrap();
    std::fs::write(chart.join("templates/b.yaml"), cm).unwrap();

    // Charts found without the input; the job fails (exit 1).
    let run = action_run(&ws, &tmp.path().join("out1"), &[]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(run.summary.contains("❌"), "{}", run.summary);
    assert!(
        run.summary.contains(
            "| error | `duplicate-object` | `deploy/web/templates/b.yaml:4` | ConfigMap web/settings |"
        ),
        "{}",
        run.summary
    );
    assert!(
        run.summary
            .contains("| deploy/web | defaults | 1 | 0 | 0 |"),
        "{}",
        run.summary
    );
    assert_eq!(output(&run, "status"), "1");
    // SARIF not asked for: none written.
    assert_eq!(output(&run, "sarif-file"), "");

    // In the action the exit is deferred to the last step (after the upload).
    let run = action_run(
        &ws,
        &tmp.path().join("out2"),
        &[("MCLINT_DEFER_EXIT", "1"), ("MCLINT_FAIL_ON", "never")],
    );
    assert_eq!(run.code, Some(0));
    assert_eq!(output(&run, "status"), "0");

    // Bad configuration: exit 2 with the reason.
    let run = action_run(
        &ws,
        &tmp.path().join("out3"),
        &[("MCLINT_FAIL_ON", "sometimes")],
    );
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("fail-on `sometimes`"), "{}", run.stderr);
    let run = action_run(
        &ws,
        &tmp.path().join("out4"),
        &[("MCLINT_CHARTS", "nowhere")],
    );
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("nowhere: no Chart.yaml"),
        "{}",
        run.stderr
    );
}
