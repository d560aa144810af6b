//! The GitHub Action: `action.yml` is well-formed and wires its inputs to
//! `scripts/action-run`, which is run here as the runner would run it, on the
//! bundled chart and on a scratch chart with a finding, with fake
//! GITHUB_STEP_SUMMARY and GITHUB_OUTPUT files.
//!
//! Also: charts with a local (`file://`) dependency, library charts, paths
//! with spaces, failing renderings, and hostile helm output that must not
//! become workflow commands.
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
    // mclint comes from scripts/install-mclint (the release binary, checked),
    // cached per version, OS and architecture; never built in the step itself.
    assert!(text.contains("scripts/install-mclint"), "{text}");
    assert!(!text.contains("cargo install"), "{text}");
    let cache = steps.iter().find(|s| s["id"] == "mclint-cache").unwrap();
    assert!(
        cache["uses"]
            .as_str()
            .unwrap()
            .starts_with("actions/cache@v"),
        "{cache}"
    );
    assert_eq!(
        cache["with"]["key"],
        "mclint-${{ steps.mclint-version.outputs.version }}-${{ runner.os }}-${{ runner.arch }}"
    );
    assert!(
        text.contains("github/codeql-action/upload-sarif@v4"),
        "{text}"
    );
    assert!(!text.contains("upload-sarif@v3"), "{text}");
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

fn action_steps() -> Vec<serde_json::Value> {
    let py = repo().join(".tools/venv/bin/python");
    let o = Command::new(py)
        .args([
            "-c",
            "import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(repo().join("action.yml"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let a: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    a["runs"]["steps"].as_array().unwrap().clone()
}

/// Runs one `run:` step of action.yml with bash, as the runner does, with
/// its env (given here, since `${{ }}` is the runner's) and runner files.
fn run_step(
    step: &serde_json::Value,
    dir: &Path,
    env: &[(&str, String)],
) -> (bool, String, String) {
    let out = dir.join("github_output");
    let path = dir.join("github_path");
    let _ = std::fs::remove_file(&out);
    let o = Command::new("bash")
        .args(["-e", "-c", step["run"].as_str().unwrap()])
        .env("GITHUB_OUTPUT", &out)
        .env("GITHUB_PATH", &path)
        .env("RUNNER_TEMP", dir)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    (
        o.status.success(),
        std::fs::read_to_string(&out).unwrap_or_default(),
        err,
    )
}

/// The install steps as the runner runs them: the action's ref is its
/// release tag or not; at another ref it builds from its checkout with
/// `cargo install --locked` (a fake cargo); a cache hit installs nothing.
/// The download itself (scripts/install-mclint) is tested in
/// tests/install_mclint.rs against a local server.
#[test]
fn the_install_steps_pick_the_release_at_its_tag_and_build_elsewhere() {
    let tmp = tempfile::tempdir().unwrap();
    let steps = action_steps();
    let version_step = steps.iter().find(|s| s["id"] == "mclint-version").unwrap();
    let install = steps
        .iter()
        .find(|s| s["name"] == "Install mclint")
        .unwrap();
    let v = env!("CARGO_PKG_VERSION");
    let action_path = repo().display().to_string();
    for (r#ref, release) in [(format!("v{v}"), "true"), ("main".to_string(), "false")] {
        let (ok, out, err) = run_step(
            version_step,
            tmp.path(),
            &[
                ("ACTION_PATH", action_path.clone()),
                ("ACTION_REF", r#ref.clone()),
            ],
        );
        assert!(ok, "{err}");
        assert_eq!(out, format!("version={v}\nrelease={release}\n"), "{ref}");
    }
    // Another ref: built from the action's checkout, not downloaded.
    let bin = tmp.path().join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = tmp.path().join("cargo.log");
    std::fs::write(
        bin.join("cargo"),
        format!(
            "#!/usr/bin/env bash\nprintf '%s\\n' \"$*\" >> '{}'\nwhile [ $# -gt 0 ]; do [ \"$1\" = --root ] && root=\"$2\"; shift; done\nmkdir -p \"$root/bin\"; cp '{}' \"$root/bin/mclint\"\n",
            log.display(),
            env!("CARGO_BIN_EXE_mclint")
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("cargo"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let (ok, _, err) = run_step(
        install,
        tmp.path(),
        &[
            ("PATH", path.clone()),
            ("ACTION_PATH", action_path.clone()),
            ("ACTION_REPO", "someone/distributed-memcached".into()),
            ("VERSION", v.into()),
            ("RELEASE", "false".into()),
            ("CACHE_HIT", "".into()),
        ],
    );
    assert!(ok, "{err}");
    assert!(err.contains("download disabled"), "{err}");
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(
        calls.starts_with(&format!(
            "install --quiet --locked --path {action_path} --root "
        )),
        "{calls}"
    );
    let dest = tmp.path().join("mclint-bin");
    assert!(dest.join("mclint").is_file());
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("github_path")).unwrap(),
        format!("{}\n", dest.display())
    );
    // A cache hit: nothing installed again.
    std::fs::remove_file(&log).unwrap();
    let (ok, _, err) = run_step(
        install,
        tmp.path(),
        &[
            ("PATH", path),
            ("ACTION_PATH", action_path),
            ("VERSION", v.into()),
            ("RELEASE", "true".into()),
            ("CACHE_HIT", "true".into()),
        ],
    );
    assert!(ok, "{err}");
    assert!(!log.exists(), "cargo ran on a cache hit");
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

/// Each values file is checked against the chart's values.schema.json
/// (`mclint values`) before it is rendered: a typo fails the job at the
/// values file's line.
#[test]
fn values_file_typos_fail_the_job_at_their_line() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let chart = ws.join("deploy/web");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::create_dir_all(chart.join("ci")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    )
    .unwrap();
    std::fs::write(chart.join("values.yaml"), "port: 80\n").unwrap();
    std::fs::write(
        chart.join("values.schema.json"),
        r#"{"type": "object", "additionalProperties": false, "properties": {"port": {"type": "integer"}}}"#,
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: web\ndata:\n  port: {{ .Values.port | quote }}\n",
    )
    .unwrap();
    std::fs::write(chart.join("ci/small-values.yaml"), "port: 8080\n").unwrap();
    let run = action_run(&ws, &tmp.path().join("out1"), &[]);
    assert_eq!(
        run.code,
        Some(0),
        "{}{}{}",
        run.stdout,
        run.stderr,
        run.summary
    );
    std::fs::write(chart.join("ci/small-values.yaml"), "port: 8080\nprot: 81\n").unwrap();
    let run = action_run(&ws, &tmp.path().join("out2"), &[]);
    assert_eq!(
        run.code,
        Some(1),
        "{}{}{}",
        run.stdout,
        run.stderr,
        run.summary
    );
    assert!(
        run.summary
            .contains("| error | `values-schema` | `deploy/web/ci/small-values.yaml:2` |"),
        "{}",
        run.summary
    );
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A helm for the tests: the project's helm (whose shim has `dependency
/// build`, through the same Helm engine), plus `HOSTILE_HELM_STDERR`: print it
/// on stderr and fail, as a helm error would. Every call is logged to
/// `helm.log`.
fn test_helm(dir: &Path) -> PathBuf {
    let py = repo().join(".tools/venv/bin/python");
    assert!(py.is_file(), "run scripts/setup first");
    let helm = dir.join("helm");
    let log = dir.join("helm.log");
    write(
        &helm,
        &format!(
            r#"#!/usr/bin/env bash
printf '%s\n' "$*" >> '{log}'
if [ -n "${{HOSTILE_HELM_STDERR:-}}" ]; then printf '%s\n' "$HOSTILE_HELM_STDERR" >&2; exit 1; fi
exec '{real}' "$@"
"#,
            log = log.display(),
            real = repo().join("scripts/helm").display()
        ),
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).unwrap();
    helm
}

/// What a runner makes of the script's standard output: the workflow
/// commands it would run (`stop-commands` honoured), in order.
fn commands_run(stdout: &str) -> Vec<String> {
    let mut stopped_by: Option<String> = None;
    let mut run = Vec::new();
    for line in stdout.lines() {
        if let Some(tok) = &stopped_by {
            if line == format!("::{tok}::") {
                stopped_by = None;
            }
            continue;
        }
        if let Some(tok) = line.strip_prefix("::stop-commands::") {
            assert!(tok.len() >= 16, "a guessable token: {line}");
            stopped_by = Some(tok.to_string());
            continue;
        }
        if line.starts_with("::") {
            run.push(line.to_string());
        }
    }
    run
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include \"common.name\" . }}\n  namespace: web\ndata: {}\n";

#[test]
fn dependencies_are_built_library_charts_skipped_and_paths_may_hold_spaces() {
    let tmp = tempfile::tempdir().unwrap();
    let helm = test_helm(tmp.path());
    let ws = tmp.path().join("ws");
    // A library chart, and an application chart using it through a local
    // dependency that charts/ does not hold yet.
    write(
        &ws.join("libs/common/Chart.yaml"),
        "apiVersion: v2\nname: common\nversion: 1.0.0\ntype: library\n",
    );
    write(
        &ws.join("libs/common/templates/_names.tpl"),
        "{{- define \"common.name\" -}}{{ .Release.Name }}-{{ .Chart.Name }}{{- end -}}\n",
    );
    let app = ws.join("my charts/web app");
    write(
        &app.join("Chart.yaml"),
        "apiVersion: v2\nname: web\nversion: 0.1.0\ndependencies:\n  - name: common\n    version: 1.0.0\n    repository: file://../../libs/common\n",
    );
    write(&app.join("templates/cm.yaml"), CM);
    write(&app.join("ci/with space-values.yaml"), "{}\n");
    write(&ws.join("values/prod values.yaml"), "{}\n");

    // Every chart found; the dependency built first; the library skipped.
    let run = action_run(
        &ws,
        &tmp.path().join("out1"),
        &[("HELM_BIN", helm.to_str().unwrap())],
    );
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let log = std::fs::read_to_string(tmp.path().join("helm.log")).unwrap();
    assert!(
        log.lines()
            .next()
            .unwrap()
            .starts_with("dependency build my charts/web app"),
        "{log}"
    );
    assert!(app.join("charts").read_dir().unwrap().next().is_some());
    assert!(
        run.summary
            .contains("| libs/common | – | – | – | – | skipped: library chart (not installable) |"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains(
            "| my charts/web app | my charts/web app/ci/with space-values.yaml | 0 | 0 | 0 |"
        ),
        "{}",
        run.summary
    );
    assert!(
        run.summary
            .contains("in 2 chart(s), 1 rendering(s), 1 library chart(s) skipped."),
        "{}",
        run.summary
    );
    assert!(
        run.stdout
            .contains("libs/common: a library chart, not rendered")
    );

    // Inputs one per line, spaces kept; the dependency is there now.
    std::fs::remove_file(tmp.path().join("helm.log")).unwrap();
    let run = action_run(
        &ws,
        &tmp.path().join("out2"),
        &[
            ("HELM_BIN", helm.to_str().unwrap()),
            ("MCLINT_CHARTS", "\n  my charts/web app  \n# a comment\n\n"),
            ("MCLINT_VALUES", "values/prod values.yaml\n"),
        ],
    );
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let log = std::fs::read_to_string(tmp.path().join("helm.log")).unwrap();
    assert!(!log.contains("dependency build"), "{log}");
    assert!(
        log.contains("template release my charts/web app --namespace default --values values/prod values.yaml"),
        "{log}"
    );
    assert!(
        run.summary
            .contains("| my charts/web app | values/prod values.yaml | 0 | 0 | 0 |"),
        "{}",
        run.summary
    );
    // A path that does not exist is refused by name, spaces and all.
    let run = action_run(
        &ws,
        &tmp.path().join("out3"),
        &[
            ("HELM_BIN", helm.to_str().unwrap()),
            (
                "MCLINT_VALUES",
                "values/prod values.yaml\nvalues/no such.yaml",
            ),
        ],
    );
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .contains("values/no such.yaml: values file not found"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_dependency_that_cannot_be_built_fails_the_chart() {
    let tmp = tempfile::tempdir().unwrap();
    let helm = test_helm(tmp.path());
    let ws = tmp.path().join("ws");
    write(
        &ws.join("app/Chart.yaml"),
        "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: gone\n    version: 1.0.0\n    repository: file://../nowhere\n",
    );
    write(&ws.join("app/templates/cm.yaml"), CM);
    let run = action_run(
        &ws,
        &tmp.path().join("out"),
        &[("HELM_BIN", helm.to_str().unwrap())],
    );
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.summary
            .contains("| app | – | – | – | – | helm dependency build failed:"),
        "{}",
        run.summary
    );
}

#[test]
fn findings_and_failures_show_per_rendering_in_the_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let chart = ws.join("web");
    write(
        &chart.join("Chart.yaml"),
        "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    );
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: web\ndata: {}\n";
    write(&chart.join("templates/a.yaml"), cm);
    write(&chart.join("templates/b.yaml"), cm);
    write(
        &chart.join("templates/check.yaml"),
        "{{- if .Values.refuse }}{{ fail \"set refuse to false\" }}{{ end }}\n",
    );
    write(&chart.join("ci/ok-values.yaml"), "refuse: false\n");
    write(&chart.join("ci/refused-values.yaml"), "refuse: true\n");
    let run = action_run(&ws, &tmp.path().join("out"), &[]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    // The rendering that worked: its counts and its first finding.
    assert!(
        run.summary.contains(
            "| web | web/ci/ok-values.yaml | 1 | 0 | 0 | error `duplicate-object` `web/templates/b.yaml:4`: "
        ),
        "{}",
        run.summary
    );
    // The one the chart refused: helm's message.
    assert!(
        run.summary.contains(
            "| web | web/ci/refused-values.yaml | – | – | – | helm template failed: Error: execution error at (web/templates/check.yaml:1:"
        ),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains("set refuse to false"),
        "{}",
        run.summary
    );
}

#[test]
fn hostile_helm_output_never_becomes_a_workflow_command() {
    let tmp = tempfile::tempdir().unwrap();
    let helm = test_helm(tmp.path());
    let ws = tmp.path().join("ws");
    let chart = ws.join("web");
    write(
        &chart.join("Chart.yaml"),
        "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    );
    // A chart's `fail` message with workflow commands in it.
    write(
        &chart.join("templates/a.yaml"),
        "{{ fail \"bad\\n::add-mask::hunter2\\n::error file=README.md,line=1::forged\\r\\n::set-output name=status::0 100%\" }}\n",
    );
    let hostile = [
        ("GITHUB_ACTIONS", "true"),
        ("HELM_BIN", helm.to_str().unwrap()),
    ];
    let run = action_run(&ws, &tmp.path().join("out1"), &hostile);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    let cmds = commands_run(&run.stdout);
    assert_eq!(cmds.len(), 1, "{cmds:#?}\n{}", run.stdout);
    // (A CR LF from helm is read as one line break, then escaped.)
    assert_eq!(
        cmds[0],
        "::error title=chart-fail,file=web/templates/a.yaml,line=1::the chart refuses defaults: bad%0A::add-mask::hunter2%0A::error file=README.md,line=1::forged%0A::set-output name=status::0 100%25"
    );
    // The text is still shown, inert and without a raw carriage return.
    assert!(
        run.stdout.contains("    ::add-mask::hunter2"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains('\r'));
    // The summary is Markdown, not HTML, with no raw line breaks in a row.
    assert!(
        run.summary
            .lines()
            .any(|l| l.starts_with("| web | defaults |") && l.contains("::add-mask::hunter2"))
    );

    // Helm's own error (not the chart's fail), and a chart directory whose
    // name is a workflow command: nothing runs but the error annotation.
    let odd = ws.join("::warning::x");
    write(
        &odd.join("Chart.yaml"),
        "apiVersion: v2\nname: odd\nversion: 1.0.0\n",
    );
    let run = action_run(
        &ws,
        &tmp.path().join("out2"),
        &[
            ("GITHUB_ACTIONS", "true"),
            ("HELM_BIN", helm.to_str().unwrap()),
            ("MCLINT_CHARTS", "::warning::x"),
            (
                "HOSTILE_HELM_STDERR",
                "Error: boom\n::add-mask::hunter2\n\u{1b}]52;c;aGk=\u{7}::error::forged",
            ),
        ],
    );
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    let cmds = commands_run(&run.stdout);
    assert_eq!(cmds.len(), 1, "{cmds:#?}\n{}", run.stdout);
    assert!(
        cmds[0].starts_with("::error title=helm template failed::::warning::x with defaults: Error: boom%0A::add-mask::hunter2%0A"),
        "{}",
        cmds[0]
    );
    assert!(!run.stdout.contains('\u{1b}'), "{}", run.stdout);
    assert!(!run.summary.contains('\u{1b}'), "{}", run.summary);
}
