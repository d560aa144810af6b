//! chart-testing's lint steps (`scripts/ct-lint`): yamale against our
//! chart_schema.yaml, yamllint with our lintconf.yaml, the maintainers check
//! and the version bump against a base ref. The chart passes; copies of it
//! broken one way each fail with the step's message. Offline once
//! `scripts/setup` installed yamllint and yamale into `.tools/venv`.

mod support;

use std::path::Path;
use std::process::Command;

use support::repo;

fn ct_lint(args: &[&str], cwd: &Path) -> (bool, String) {
    let out = Command::new(repo().join("scripts/ct-lint"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run scripts/ct-lint");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A copy of the chart's lint inputs (Chart.yaml, values.yaml, ci/, one
/// template) under `dir/chart`.
fn copy_chart(dir: &Path) -> std::path::PathBuf {
    let from = repo().join("charts/distributed-memcached");
    let to = dir.join("chart");
    std::fs::create_dir_all(to.join("ci")).unwrap();
    std::fs::create_dir_all(to.join("templates")).unwrap();
    for f in ["Chart.yaml", "values.yaml", "templates/cache-service.yaml"] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
    for e in std::fs::read_dir(from.join("ci")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join("ci").join(p.file_name().unwrap())).unwrap();
    }
    to
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{}: no {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_chart_passes_chart_testing_lint() {
    let (ok, out) = ct_lint(&[], &repo());
    assert!(ok, "{out}");
    for step in ["yamale", "yamllint", "maintainers"] {
        assert!(
            out.contains(&format!("ct-lint: {step}")),
            "{step} not run: {out}"
        );
    }
}

#[test]
fn each_lint_step_fails_on_what_it_checks() {
    let dir = tempfile::tempdir().unwrap();
    let chart = copy_chart(dir.path());
    let c = chart.to_str().unwrap();
    let (ok, out) = ct_lint(&[c], dir.path());
    assert!(ok, "the copy should pass: {out}");

    // yamllint: trailing spaces in values.yaml, a duplicate key in a ci file.
    edit(
        &chart.join("values.yaml"),
        "mode: cache\n",
        "mode: cache   \n",
    );
    let (ok, out) = ct_lint(&[c], dir.path());
    assert!(
        !ok && out.contains("values.yaml") && out.contains("trailing-spaces"),
        "{out}"
    );
    edit(
        &chart.join("values.yaml"),
        "mode: cache   \n",
        "mode: cache\n",
    );
    edit(
        &chart.join("ci/cache-values.yaml"),
        "mode: cache\n",
        "mode: cache\nmode: cache\n",
    );
    let (ok, out) = ct_lint(&[c], dir.path());
    assert!(!ok && out.contains("key-duplicates"), "{out}");
    edit(
        &chart.join("ci/cache-values.yaml"),
        "mode: cache\nmode: cache\n",
        "mode: cache\n",
    );

    // yamale: keywords must be a list of strings.
    edit(
        &chart.join("Chart.yaml"),
        "keywords:\n",
        "keywords: memcached\nx-keywords:\n",
    );
    let (ok, out) = ct_lint(&[c], dir.path());
    assert!(!ok && out.contains("keywords"), "{out}");
    edit(
        &chart.join("Chart.yaml"),
        "keywords: memcached\nx-keywords:\n",
        "keywords:\n",
    );

    // maintainers: a name that is no GitHub account.
    edit(
        &chart.join("Chart.yaml"),
        "  - name: distributed-memcached\n",
        "  - name: the maintainers\n",
    );
    let (ok, out) = ct_lint(&[c], dir.path());
    assert!(
        !ok && out.contains("maintainers[0].name 'the maintainers'"),
        "{out}"
    );
}

#[test]
fn a_changed_chart_needs_a_higher_version_than_the_base_ref() {
    let dir = tempfile::tempdir().unwrap();
    let chart = copy_chart(dir.path());
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "base"]);
    let (ok, out) = ct_lint(&["--base", "HEAD", "chart"], dir.path());
    assert!(ok && out.contains("unchanged since HEAD"), "{out}");

    edit(
        &chart.join("templates/cache-service.yaml"),
        "kind: Service",
        "kind: Service\n# changed",
    );
    let (ok, out) = ct_lint(&["--base", "HEAD", "chart"], dir.path());
    assert!(!ok && out.contains("bump version"), "{out}");

    let meta = std::fs::read_to_string(chart.join("Chart.yaml")).unwrap();
    let version = meta
        .lines()
        .find_map(|l| l.strip_prefix("version: "))
        .unwrap()
        .trim()
        .to_string();
    let parts: Vec<u64> = version.split('.').map(|p| p.parse().unwrap()).collect();
    let lower = format!("{}.{}.{}-rc.1", parts[0], parts[1], parts[2]);
    edit(
        &chart.join("Chart.yaml"),
        &format!("version: {version}"),
        &format!("version: {lower}"),
    );
    let (ok, out) = ct_lint(&["--base", "HEAD", "chart"], dir.path());
    assert!(
        !ok && out.contains("is not above"),
        "a pre-release is below its release: {out}"
    );

    let higher = format!("{}.{}.{}", parts[0], parts[1] + 1, 0);
    edit(
        &chart.join("Chart.yaml"),
        &format!("version: {lower}"),
        &format!("version: {higher}"),
    );
    let (ok, out) = ct_lint(&["--base", "HEAD", "chart"], dir.path());
    assert!(
        ok && out.contains(&format!("{version} -> {higher}")),
        "{out}"
    );
}
