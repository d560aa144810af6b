//! `mclint diff` end to end: renderings of the bundled chart (real Helm
//! engine), standalone proxy configs, `--chart --base` on a scratch git
//! repository, the output formats and the exit codes.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::{helm_template, mclint, repo};

const CHART: &str = "charts/distributed-memcached";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn diff(args: &[&str], old: &Path, new: &Path) -> Output {
    mclint()
        .arg("diff")
        .args(args)
        .arg(old)
        .arg(new)
        .output()
        .unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "mclint diff could not run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn daemonset(replicas: u32, extra: &[&str]) -> String {
    let values = format!("{CHART}/ci/daemonset-values.yaml");
    let set = format!("cache.replicas={replicas}");
    let mut args = vec!["-f", values.as_str(), "--set", set.as_str()];
    args.extend_from_slice(extra);
    // helm_template runs in the test's working directory, the crate root.
    helm_template("r", "cache", &args)
}

fn lua(backends: &[&str], seed: Option<&str>) -> String {
    let list: String = backends.iter().map(|b| format!("\"{b}\", ")).collect();
    let options = seed
        .map(|s| format!("options = {{ seed = \"{s}\" }}, "))
        .unwrap_or_default();
    format!(
        "pools {{ main = {{ {options}backends = {{ {list}}} }} }}\nroutes {{ default = route_direct {{ child = \"main\" }} }}\n"
    )
}

#[test]
fn scaling_the_chart_from_three_to_four_pods_moves_a_quarter() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(dir.path(), "old.yaml", &daemonset(3, &[]));
    let new = write(dir.path(), "new.yaml", &daemonset(4, &[]));
    let v = json(&diff(&["--format", "json"], &old, &new));
    let routes = v["remap"]["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 1, "{v:#}");
    let moved = routes[0]["moved"].as_f64().unwrap();
    assert!((moved - 0.25).abs() < 0.01, "moved {moved}");
    assert!((routes[0]["ideal"].as_f64().unwrap() - 0.25).abs() < 1e-9);
    assert_eq!(routes[0]["pools"][0]["old_backends"], 3);
    assert_eq!(routes[0]["pools"][0]["new_backends"], 4);
    assert_eq!(v["remap"]["keys"], 100_000);
    let changed: Vec<&str> = v["objects"]["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert!(changed.contains(&"StatefulSet"), "{changed:?}");
    assert!(changed.contains(&"ConfigMap"), "{changed:?}");
    let sts = v["objects"]["changed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "StatefulSet")
        .unwrap();
    assert!(
        sts["diff"]
            .as_str()
            .unwrap()
            .contains("-  replicas: 3\n+  replicas: 4\n"),
        "{}",
        sts["diff"]
    );

    // --max-remap: 30% passes, 20% fails with exit 1 and says which route.
    assert_eq!(
        diff(&["--max-remap", "30"], &old, &new).status.code(),
        Some(0)
    );
    let out = diff(&["--max-remap", "20"], &old, &new);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FAIL: ConfigMap cache/") && text.contains("route default moves 25."),
        "{text}"
    );
}

#[test]
fn renaming_a_label_changes_objects_but_moves_no_key() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(
        dir.path(),
        "old.yaml",
        &daemonset(3, &["--set", "commonLabels.team=a"]),
    );
    let new = write(
        dir.path(),
        "new.yaml",
        &daemonset(3, &["--set", "commonLabels.team=b"]),
    );
    let v = json(&diff(&["--format", "json", "--max-remap", "0"], &old, &new));
    assert!(
        !v["objects"]["changed"].as_array().unwrap().is_empty(),
        "a label changed: {v:#}"
    );
    let routes = v["remap"]["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 1);
    assert_eq!(routes[0]["moved"], 0.0);
    assert!(v["exceeded"].as_array().unwrap().is_empty());
}

#[test]
fn reversing_backends_moves_most_keys_and_a_new_seed_moves_n_minus_one_over_n() {
    let dir = tempfile::tempdir().unwrap();
    let four = ["a:11211", "b:11211", "c:11211", "d:11211"];
    let reversed = ["d:11211", "c:11211", "b:11211", "a:11211"];
    let old = write(dir.path(), "old.lua", &lua(&four, None));
    let rev = write(dir.path(), "rev.lua", &lua(&reversed, None));
    let v = json(&diff(&["--format", "json"], &old, &rev));
    let r = &v["remap"]["routes"][0];
    assert!(r["moved"].as_f64().unwrap() > 0.9, "{r:#}");
    // Same backends: a consistent hash need not move anything.
    assert_eq!(r["ideal"], 0.0);
    assert_eq!(
        r["config"],
        format!("{} → {}", old.display(), rev.display())
    );

    let seeded = write(dir.path(), "seeded.lua", &lua(&four, Some("copy-a")));
    let v = json(&diff(&["--format", "json"], &old, &seeded));
    let moved = v["remap"]["routes"][0]["moved"].as_f64().unwrap();
    assert!(
        (moved - 0.75).abs() < 0.01,
        "seed change on 4 backends moved {moved}"
    );
}

#[test]
fn keys_file_and_text_output() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(dir.path(), "old.lua", &lua(&["a:1", "b:1"], None));
    let new = write(dir.path(), "new.lua", &lua(&["a:1", "b:1", "c:1"], None));
    let keys = write(dir.path(), "keys.txt", "k1\nk2\nk3\nk4\n\n");
    let out = mclint()
        .args(["diff", "--keys-file"])
        .arg(&keys)
        .arg(&old)
        .arg(&new)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "Key remapping (4 keys from {} keys)",
            keys.display()
        )),
        "{text}"
    );
    assert!(text.contains("pool main: 2 → 3 backends"), "{text}");
    // An expectation over keys, not a bound: worded as one.
    assert!(
        text.contains("(expected 33.33% with an ideal consistent hash)"),
        "{text}"
    );
    assert!(!text.contains("best possible"), "{text}");
    // Two .lua files: no "0 changed objects" next to a changed config.
    let first = text.lines().next().unwrap();
    assert!(first.ends_with(": 1 changed proxy config file"), "{first}");
    assert!(text.contains("\n~ proxy config "), "{text}");
}

#[test]
fn github_format_is_a_markdown_summary() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(dir.path(), "old.yaml", &daemonset(3, &[]));
    let new = write(dir.path(), "new.yaml", &daemonset(4, &[]));
    let out = diff(&["--format", "github"], &old, &new);
    assert_eq!(out.status.code(), Some(0));
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.starts_with("## mclint diff: "), "{md}");
    assert!(md.contains("| changed | StatefulSet | cache |"), "{md}");
    assert!(md.contains("````diff\n"), "{md}");
    assert!(
        md.contains("| config | routes | pool | backends | keys moved |"),
        "{md}"
    );
    assert!(md.contains("| | | cache | 3 → 4 |"), "{md}");
}

#[test]
fn bad_input_is_a_clear_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.yaml", "kind: A\nmetadata: {name: a}\n");
    let missing = dir.path().join("missing.yaml");
    let out = diff(&[], &good, &missing);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("missing.yaml: no such file or directory"),
        "{err}"
    );

    let broken = write(
        dir.path(),
        "broken.yaml",
        "kind: A\nmetadata: {name: a}\n---\nkind: [\n",
    );
    let out = diff(&[], &good, &broken);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.yaml: document 2 (line"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let out = mclint()
        .args(["diff", "--max-remap", "150"])
        .arg(&good)
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("between 0 and 100"));

    // A proxy config that does not load is named, not fatal.
    let bad_lua = write(dir.path(), "bad.lua", "pools {\n");
    let ok_lua = write(dir.path(), "ok.lua", &lua(&["a:1"], None));
    let out = diff(&[], &ok_lua, &bad_lua);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("skipped: new ") && text.contains("bad.lua"),
        "{text}"
    );
}

fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn chart_against_a_git_base() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("repo");
    let chart = work.join("deploy/chart");
    copy_dir(&repo().join(CHART), &chart);
    let values = work.join("deploy/values.yaml");
    std::fs::write(&values, "mode: daemonset\ncache:\n  replicas: 3\n").unwrap();
    git(&work, &["init", "-q"]);
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "base"]);
    // The change under review: two more cache pods, in the values file.
    std::fs::write(&values, "mode: daemonset\ncache:\n  replicas: 5\n").unwrap();

    let run = |extra: &[&str]| {
        mclint()
            .current_dir(&work)
            .args([
                "diff",
                "--chart",
                "deploy/chart",
                "--base",
                "HEAD",
                "-n",
                "cache",
            ])
            .arg("--helm")
            .arg(repo().join("scripts/helm"))
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&["-f", "deploy/values.yaml", "--format", "json"]);
    let v = json(&out);
    let route = &v["remap"]["routes"][0];
    assert_eq!(route["pools"][0]["old_backends"], 3, "{v:#}");
    assert_eq!(route["pools"][0]["new_backends"], 5, "{v:#}");
    // Jump hash moves the minimum: 1 - 3/5.
    assert!(
        (route["moved"].as_f64().unwrap() - 0.4).abs() < 0.01,
        "{route:#}"
    );
    assert_eq!(v["old"], "deploy/chart at HEAD");
    // The work tree and the index are untouched: no worktree, no stash.
    let status = std::process::Command::new("git")
        .arg("-C")
        .arg(&work)
        .args(["status", "--porcelain"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&status.stdout).trim(),
        "M deploy/values.yaml"
    );

    // Clear errors: an unknown ref, a directory that is no chart.
    let out = mclint()
        .current_dir(&work)
        .args(["diff", "--chart", "deploy/chart", "--base", "no-such-ref"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--base no-such-ref: no such commit"));
    let out = mclint()
        .current_dir(&work)
        .args(["diff", "--chart", "deploy", "--base", "HEAD"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("deploy: no Chart.yaml here"));
}

/// The pipes that separate cells in a Markdown table line (`\|` is text).
fn cell_count(line: &str) -> usize {
    assert!(
        line.starts_with('|') && line.trim_end().ends_with('|'),
        "a table line must start and end with `|`: {line:?}"
    );
    let mut pipes = 0;
    let mut chars = line.trim_end().chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '|' => pipes += 1,
            _ => {}
        }
    }
    pipes - 1
}

/// Every Markdown table in `md`: its lines, header first. Checks the shape
/// GitHub needs: a delimiter row second, and every row as wide as the header.
fn markdown_tables(md: &str) -> Vec<Vec<&str>> {
    let mut tables: Vec<Vec<&str>> = Vec::new();
    let mut in_table = false;
    let mut in_fence = false;
    for line in md.lines() {
        if line.starts_with("```") {
            in_fence = !in_fence;
        }
        if !in_fence && line.starts_with('|') {
            if !in_table {
                tables.push(Vec::new());
            }
            tables.last_mut().unwrap().push(line);
            in_table = true;
        } else {
            in_table = false;
        }
    }
    for t in &tables {
        assert!(t.len() >= 2, "a table without a delimiter row: {t:#?}");
        let width = cell_count(t[0]);
        let delimiter: Vec<&str> = t[1].trim_matches('|').split('|').collect();
        assert_eq!(delimiter.len(), width, "delimiter row: {}", t[1]);
        assert!(
            delimiter.iter().all(|c| {
                c.trim().len() >= 3 && c.trim().chars().all(|ch| ch == '-' || ch == ':')
            }),
            "not a delimiter row: {}",
            t[1]
        );
        for row in &t[2..] {
            assert_eq!(
                cell_count(row),
                width,
                "row has {} cells, header `{}` has {width}: {row}",
                cell_count(row),
                t[0]
            );
        }
    }
    tables
}

#[test]
fn the_markdown_table_parser_sees_a_missing_header_cell() {
    let bad = "| a | b |\n|---|---|\n| 1 | 2 | 3 |\n";
    let caught = std::panic::catch_unwind(|| markdown_tables(bad));
    assert!(
        caught.is_err(),
        "a row wider than its header must be caught"
    );
    let escaped = "| a | b |\n|---|---|\n| x \\| y | 2 |\n";
    assert_eq!(markdown_tables(escaped).len(), 1);
}

const GITHUB_OLD: &str = r#"apiVersion: v1
kind: ConfigMap
metadata: {name: proxy, namespace: cache}
data:
  routes.lua: |
    pools {
      main = { backends = { "a:11211", "b:11211", "c:11211" } },
      legacy = { backends = { "x:11211" } },
    }
    routes {
      map = { ["odd|key"] = route_direct { child = "legacy" } },
      default = route_direct { child = "main" },
    }
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: cache}
spec: {replicas: 1}
---
apiVersion: v1
kind: Service
metadata: {name: gone, namespace: cache}
"#;

const GITHUB_NEW: &str = r#"apiVersion: v1
kind: ConfigMap
metadata: {name: proxy, namespace: cache}
data:
  routes.lua: |
    pools {
      main = { backends = { "a:11211", "b:11211", "c:11211", "d:11211" } },
      fresh = { backends = { "y:11211" } },
    }
    routes {
      map = { ["odd|key"] = route_direct { child = "fresh" } },
      default = route_direct { child = "main" },
    }
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: cache}
spec: {replicas: 2}
---
apiVersion: v1
kind: Service
metadata: {name: added, namespace: cache}
"#;

#[test]
fn github_tables_have_as_many_cells_in_every_row_as_in_the_header() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "old.yaml", GITHUB_OLD);
    write(dir.path(), "new.yaml", GITHUB_NEW);
    let mut cmd = mclint();
    cmd.current_dir(dir.path()).args([
        "diff",
        "--format",
        "github",
        "--keys",
        "2000",
        "--max-remap",
        "20",
        "old.yaml",
        "new.yaml",
    ]);
    let run = support::run(&mut cmd, b"");
    assert_eq!(run.code, 1, "{}", run.snapshot());
    let tables = markdown_tables(&run.stdout);
    assert_eq!(tables.len(), 2, "{}", run.stdout);
    assert_eq!(cell_count(tables[0][0]), 5);
    assert_eq!(
        tables[1][0],
        "| config | routes | pool | backends | keys moved | expected (ideal hash) | keep none |"
    );
    // Every kind of remap row is there: route group, pool, pool gone, pool new.
    let remap = tables[1].join("\n");
    for part in [
        "| **all** |",
        "| main | 3 → 4 |",
        "| legacy | no longer reached |",
        "| fresh | newly reached |",
        "map.odd\\|key",
        "❌",
    ] {
        assert!(remap.contains(part), "{part:?} missing:\n{remap}");
    }
    insta::assert_snapshot!("github", run.snapshot());
}

/// A chart of one ConfigMap holding a routelib config; `{{ .Values.backends }}`
/// backends.
const TINY_CHART: &str = "apiVersion: v2\nname: tiny\nversion: 0.1.0\n";
const TINY_TEMPLATE: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-proxy
data:
  routes.lua: |
    pools {
      main = { backends = { {{ range .Values.backends }}"{{ . }}", {{ end }}} },
    }
    routes { default = route_direct { child = "main" } }
"#;

struct TinyRepo {
    _dir: tempfile::TempDir,
    work: PathBuf,
}

/// A git repository with `chart/` (TINY_CHART) and `values.yaml`, committed.
fn tiny_repo(values: &str) -> TinyRepo {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("repo");
    std::fs::create_dir_all(work.join("chart/templates")).unwrap();
    write(&work, "chart/Chart.yaml", TINY_CHART);
    write(&work, "chart/templates/proxy.yaml", TINY_TEMPLATE);
    write(&work, "values.yaml", values);
    git(&work, &["init", "-q"]);
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "base"]);
    TinyRepo { _dir: dir, work }
}

impl TinyRepo {
    /// `mclint diff --chart chart --base HEAD -f values.yaml --max-remap 0 EXTRA`.
    fn diff(&self, extra: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Output {
        let mut cmd = mclint();
        cmd.current_dir(&self.work)
            .env_remove("HELM_BIN")
            .args(["diff", "--chart", "chart", "-f", "values.yaml"])
            .args(["--max-remap", "0"])
            .args(extra);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const TWO: &str = "backends: [a:11211, b:11211]\n";
const THREE: &str = "backends: [a:11211, b:11211, c:11211]\n";

#[test]
fn chart_mode_with_a_working_helm_gates_on_max_remap() {
    let repo_ = tiny_repo(TWO);
    write(&repo_.work, "values.yaml", THREE);
    let helm = repo().join("scripts/helm");
    let out = repo_.diff(&["--base", "HEAD", "--helm", helm.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    // HELM_BIN is used when --helm is not given.
    let out = repo_.diff(&["--base", "HEAD"], &[("HELM_BIN", helm.as_os_str())]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("pool main: 2 → 3 backends"), "{text}");
}

/// A directory holding only `git` and `tar` (what --chart needs besides Helm),
/// to stand for a PATH without Helm.
fn path_without_helm(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["git", "tar"] {
        let found = std::env::split_paths(&std::env::var_os("PATH").unwrap())
            .map(|p| p.join(tool))
            .find(|p| p.is_file())
            .unwrap_or_else(|| panic!("{tool} is not on PATH"));
        std::os::unix::fs::symlink(found, bin.join(tool)).unwrap();
    }
    bin
}

#[test]
fn chart_mode_rendering_failures_exit_2_naming_the_side_and_values() {
    let repo_ = tiny_repo(TWO);
    write(&repo_.work, "values.yaml", THREE);
    let helm = repo().join("scripts/helm");
    let helm = helm.to_str().unwrap();

    // No Helm: --helm, HELM_BIN, PATH. Exit 2 even with a --max-remap gate.
    let out = repo_.diff(&["--base", "HEAD", "--helm", "/nonexistent/helm"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains(
            "rendering the old side, chart at --base HEAD with values values.yaml as at HEAD"
        ) && err.contains("--helm /nonexistent/helm: no such command"),
        "{err}"
    );
    let out = repo_.diff(
        &["--base", "HEAD"],
        &[("HELM_BIN", std::ffi::OsStr::new("/nonexistent/helm"))],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("HELM_BIN=/nonexistent/helm: no such command"),
        "{}",
        stderr_of(&out)
    );
    let tools = tempfile::tempdir().unwrap();
    let bin = path_without_helm(tools.path());
    let out = repo_.diff(&["--base", "HEAD"], &[("PATH", bin.as_os_str())]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out)
            .contains("`helm` is not on PATH; install Helm, or pass --helm PATH or set HELM_BIN"),
        "{}",
        stderr_of(&out)
    );
    assert!(out.stdout.is_empty());

    // A bad ref.
    let out = repo_.diff(&["--base", "no-such-ref", "--helm", helm], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("--base no-such-ref: no such commit, branch or tag"),
        "{}",
        stderr_of(&out)
    );

    // A values file missing.
    let out = repo_.diff(&["--base", "HEAD", "--helm", helm, "-f", "nope.yaml"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("--values nope.yaml: values file not found"),
        "{}",
        stderr_of(&out)
    );

    // helm template fails in the working tree only.
    write(
        &repo_.work,
        "chart/templates/broken.yaml",
        "{{ .Values.missing.deeper }}\n",
    );
    let out = repo_.diff(&["--base", "HEAD", "--helm", helm], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("rendering the new side, ")
            && err.contains("chart in the working tree with values values.yaml: ")
            && err.contains("template failed (exit status"),
        "{err}"
    );
    std::fs::remove_file(repo_.work.join("chart/templates/broken.yaml")).unwrap();

    // helm template fails at the base only: its values file did not parse then.
    let repo_ = tiny_repo("backends: [a:11211\n");
    write(&repo_.work, "values.yaml", TWO);
    let out = repo_.diff(&["--base", "HEAD", "--helm", helm], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains(
            "rendering the old side, chart at --base HEAD with values values.yaml as at HEAD: "
        ) && err.contains("template failed (exit status"),
        "{err}"
    );
    // Helm's message names the values file as the user knows it, not a temporary copy.
    assert!(!err.contains("mclint-diff-"), "{err}");
}

#[test]
fn quoting_an_annotation_is_no_change_even_when_it_reads_as_a_number() {
    let dir = tempfile::tempdir().unwrap();
    let object = |checksum: &str, label: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n  labels:\n    v: {label}\nspec:\n  template:\n    metadata:\n      annotations:\n        checksum/config: {checksum} # rendered\n    spec:\n      containers: []\n"
        )
    };
    let quoted = write(dir.path(), "quoted.yaml", &object("\"0123e4\"", "\"true\""));
    let plain = write(dir.path(), "plain.yaml", &object("0123e4", "true"));
    let v = json(&diff(&["--format", "json"], &quoted, &plain));
    assert_eq!(v["objects"]["changed"], serde_json::json!([]), "{v}");
    assert_eq!(v["objects"]["unchanged"], 1, "{v}");
    // A real change of the checksum still shows.
    let changed = write(dir.path(), "changed.yaml", &object("0123e5", "true"));
    let v = json(&diff(&["--format", "json"], &plain, &changed));
    assert_eq!(v["objects"]["changed"].as_array().unwrap().len(), 1, "{v}");
}

/// A fake Helm that starts a child which outlives a plain kill of helm
/// alone, records the child's pid, and never prints a rendering.
fn hanging_helm(dir: &Path) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt as _;
    let pidfile = dir.join("sleeper.pid");
    let script = dir.join("helm");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nsleep 300 &\necho $! > {}\nwait\n",
            pidfile.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, pidfile)
}

/// Is the process gone (or a zombie about to be reaped)? Waits up to 10 s.
fn gone(pid: &str) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(stat)
                if stat
                    .rsplit(')')
                    .next()
                    .is_some_and(|s| s.trim_start().starts_with('Z')) =>
            {
                return true;
            }
            Ok(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
    false
}

fn read_pid(pidfile: &Path) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Ok(p) = std::fs::read_to_string(pidfile)
            && !p.trim().is_empty()
        {
            return p.trim().to_string();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the fake helm never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn chart_mode_kills_a_hanging_helm_after_the_timeout_and_cleans_up() {
    let repo_ = tiny_repo(TWO);
    let tools = tempfile::tempdir().unwrap();
    let (helm, pidfile) = hanging_helm(tools.path());
    let tmp = tempfile::tempdir().unwrap();
    let out = mclint()
        .current_dir(&repo_.work)
        .env("TMPDIR", tmp.path())
        .args([
            "diff",
            "--chart",
            "chart",
            "--base",
            "HEAD",
            "--helm-timeout",
            "1",
        ])
        .arg("--helm")
        .arg(&helm)
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("template did not finish within 1 s (--helm-timeout); it was killed"),
        "{err}"
    );
    assert!(err.contains("rendering the old side"), "{err}");
    assert!(
        gone(&read_pid(&pidfile)),
        "helm's child outlived the timeout"
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
    // The flag is bounded like any input.
    let out = mclint()
        .args([
            "diff",
            "--chart",
            "chart",
            "--base",
            "HEAD",
            "--helm-timeout",
            "0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn chart_mode_cleans_up_and_stops_helm_on_sigint_and_sigterm() {
    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let repo_ = tiny_repo(TWO);
        let tools = tempfile::tempdir().unwrap();
        let (helm, pidfile) = hanging_helm(tools.path());
        let tmp = tempfile::tempdir().unwrap();
        let mut child = mclint()
            .current_dir(&repo_.work)
            .env("TMPDIR", tmp.path())
            .args(["diff", "--chart", "chart", "--base", "HEAD"])
            .arg("--helm")
            .arg(&helm)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let sleeper = read_pid(&pidfile);
        // The temporary directory with the chart at the base exists now.
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
        let pid = libc::pid_t::try_from(child.id()).unwrap();
        // SAFETY: signals the mclint this test started.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        // A hang guard: mclint must exit well before helm's 300 s sleep.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("mclint did not stop on signal {signal}");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert_eq!(status.code(), Some(code), "{err}");
        assert!(err.contains("interrupted by SIG"), "{err}");
        assert!(gone(&sleeper), "helm's child outlived the signal");
        let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert!(left.is_empty(), "temporary files left behind: {left:?}");
    }
}

/// `--lib FILE` (repeatable) loads a library before each `.lua` config on
/// both sides, as `-o proxy_config=routelib:FILE` does: a config that calls a
/// function the library defines does not load without it.
#[test]
fn lib_loads_a_library_before_each_lua_config() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let lib = write(
        d,
        "backends.lua",
        "function backends_of(n)\n    local t = {}\n    for i = 1, n do t[i] = \"10.0.0.\" .. i .. \":11211\" end\n    return t\nend\n",
    );
    let more = write(d, "n.lua", "POOL_SIZE_NEW = 4\n");
    let old = write(
        d,
        "old.lua",
        "pools { main = { backends = backends_of(3) } }\nroutes { default = route_direct { child = \"main\" } }\n",
    );
    let new = write(
        d,
        "new.lua",
        "pools { main = { backends = backends_of(POOL_SIZE_NEW or 0) } }\nroutes { default = route_direct { child = \"main\" } }\n",
    );
    let alone = json(&diff(&["--format", "json", "--keys", "2000"], &old, &new));
    let skipped = alone["remap"]["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 2, "{alone}");
    assert!(
        skipped[0].as_str().unwrap().contains("backends_of"),
        "{skipped:?}"
    );
    let lib_s = lib.display().to_string();
    let more_s = more.display().to_string();
    let with = json(&diff(
        &[
            "--format", "json", "--keys", "2000", "--lib", &lib_s, "--lib", &more_s,
        ],
        &old,
        &new,
    ));
    assert!(
        with["remap"]["skipped"].as_array().unwrap().is_empty(),
        "{with}"
    );
    let route = &with["remap"]["routes"][0];
    let pool = &route["pools"][0];
    assert_eq!(pool["old_backends"], 3, "{with}");
    // The second library ran too: the new side has its 4 backends.
    assert_eq!(pool["new_backends"], 4, "{with}");
    // Jump hash 3 -> 4 moves about a quarter of the keys.
    let moved = route["moved"].as_f64().unwrap();
    assert!((0.2..0.3).contains(&moved), "{moved}");
    // A library that cannot be read is an error naming the option and file.
    let bad = diff(&["--lib", "/dev/zero"], &old, &new);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("--lib: /dev/zero"), "{err}");
}
