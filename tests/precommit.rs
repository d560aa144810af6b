//! The pre-commit hooks, run by the real `pre-commit` (pinned in
//! scripts/requirements.txt, installed in .tools/venv by scripts/setup)
//! through `git commit` in a scratch repository.
//!
//! pre-commit clones hook repositories at a commit, and the tree under test
//! is not committed, so the test builds a throw-away hook repository holding
//! this tree's `.pre-commit-hooks.yaml` and `scripts/mclint-chart`, commits
//! it, and points the scratch repository's `.pre-commit-config.yaml` at it
//! (`repo: <path>`, `rev: <sha>`): the manifest is parsed and the hooks are
//! run exactly as for a user. The `mclint` hook itself (`language: rust`)
//! would run `cargo install --path .` in the clone, which needs the crate
//! registry; the test uses the same hook's `mclint-system` twin with the
//! built binary on PATH instead, and checks that the manifest validates.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::repo;

fn pre_commit() -> PathBuf {
    let p = repo().join(".tools/venv/bin/pre-commit");
    assert!(
        p.is_file(),
        "{} is missing: run scripts/setup (the README's test command does)",
        p.display()
    );
    p
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

struct Scratch {
    _tmp: tempfile::TempDir,
    env: Vec<(String, String)>,
    user: PathBuf,
}

impl Scratch {
    fn cmd(&self, program: &Path, dir: &Path) -> Command {
        let mut c = Command::new(program);
        c.current_dir(dir);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    fn git(&self, dir: &Path, args: &[&str]) -> Output {
        self.cmd(Path::new("git"), dir).args(args).output().unwrap()
    }

    fn git_ok(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.git(dir, args);
        assert!(
            out.status.success(),
            "git {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// `git add -A && git commit`: (committed?, everything printed).
    fn commit(&self, msg: &str) -> (bool, String) {
        self.git_ok(&self.user, &["add", "-A"]);
        let out = self.git(&self.user, &["commit", "-q", "-m", msg]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }
}

const CHART_YAML: &str = "apiVersion: v2\nname: demo\nversion: 0.1.0\n";
const CONFIGMAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\n  labels:\n    app: demo\ndata:\n  port: {{ .Values.port | quote }}\n";

fn setup() -> Scratch {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_mclint"), bin.join("mclint")).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let env = vec![
        ("PATH".to_string(), path),
        (
            "PRE_COMMIT_HOME".to_string(),
            root.join("pre-commit-home").display().to_string(),
        ),
        (
            "HELM_BIN".to_string(),
            repo().join("scripts/helm").display().to_string(),
        ),
        ("GIT_AUTHOR_NAME".into(), "t".into()),
        ("GIT_AUTHOR_EMAIL".into(), "t@example.com".into()),
        ("GIT_COMMITTER_NAME".into(), "t".into()),
        ("GIT_COMMITTER_EMAIL".into(), "t@example.com".into()),
        ("GIT_CONFIG_GLOBAL".into(), "/dev/null".into()),
        ("NO_COLOR".into(), "1".into()),
    ];
    let user = root.join("user");
    let s = Scratch {
        _tmp: tmp,
        env,
        user: user.clone(),
    };

    // The hook repository: this tree's manifest and script, committed.
    let hooks = root.join("hooks");
    std::fs::create_dir_all(hooks.join("scripts")).unwrap();
    std::fs::copy(
        repo().join(".pre-commit-hooks.yaml"),
        hooks.join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    std::fs::copy(
        repo().join("scripts/mclint-chart"),
        hooks.join("scripts/mclint-chart"),
    )
    .unwrap();
    s.git_ok(&hooks, &["init", "-q"]);
    s.git_ok(&hooks, &["add", "-A"]);
    s.git_ok(&hooks, &["commit", "-q", "-m", "hooks"]);
    let rev = s.git_ok(&hooks, &["rev-parse", "HEAD"]);

    // The user's repository: a chart and a rendered manifest.
    std::fs::create_dir_all(&user).unwrap();
    s.git_ok(&user, &["init", "-q"]);
    write(
        &user,
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: mclint-chart\n      - id: mclint-system\n        files: ^deploy/\n",
            hooks.display()
        ),
    );
    write(&user, "charts/demo/Chart.yaml", CHART_YAML);
    write(&user, "charts/demo/values.yaml", "port: 80\n");
    write(&user, "charts/demo/ci/small-values.yaml", "port: 8080\n");
    write(&user, "charts/demo/templates/configmap.yaml", CONFIGMAP);
    write(
        &user,
        "deploy/settings.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: web\ndata:\n  a: \"1\"\n",
    );
    write(&user, "README.md", "scratch\n");
    let out = s.cmd(&pre_commit(), &user).arg("install").output().unwrap();
    assert!(
        out.status.success(),
        "pre-commit install: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    s
}

#[test]
fn hooks_manifest_validates() {
    let out = Command::new(pre_commit())
        .arg("validate-manifest")
        .arg(repo().join(".pre-commit-hooks.yaml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn commits_pass_and_fail_with_findings_at_the_template() {
    let s = setup();

    let (ok, out) = s.commit("a clean chart");
    assert!(ok, "the first commit should pass:\n{out}");

    // A second template renders an object with the same name: duplicate-object,
    // reported at the template line that writes the name.
    write(
        &s.user,
        "charts/demo/templates/settings-copy.yaml",
        "# a copy that forgot to rename\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\ndata: {}\n",
    );
    let (ok, out) = s.commit("a duplicate");
    assert!(!ok, "the commit should be refused:\n{out}");
    assert!(
        out.contains("mclint (Helm charts)") && out.contains("Failed"),
        "{out}"
    );
    assert!(
        out.contains("charts/demo/templates/settings-copy.yaml:5: error[duplicate-object] ConfigMap release-settings /metadata/name"),
        "{out}"
    );
    // Template names in messages are repository paths too.
    assert!(
        out.contains("the first is in charts/demo/templates/configmap.yaml"),
        "{out}"
    );
    // Both renderings (defaults are not used: the chart has ci/ values) agree.
    assert!(
        out.contains("(rendered with charts/demo/ci/small-values.yaml)"),
        "{out}"
    );
    assert!(!out.contains("<stdin>"), "{out}");
    // mclint's own options reach it through --check-args (pre-commit puts the
    // file names after a hook's args); the finding is still shown.
    let o = s
        .cmd(&repo().join("scripts/mclint-chart"), &s.user)
        .args([
            "--check-args",
            "--fail-on never",
            "charts/demo/templates/settings-copy.yaml",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(text.contains("error[duplicate-object]"), "{text}");
    std::fs::remove_file(s.user.join("charts/demo/templates/settings-copy.yaml")).unwrap();

    // A template that is not YAML: helm's own error, naming the template by
    // its path in the repository.
    write(
        &s.user,
        "charts/demo/templates/broken.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata:\n  a: [1\n",
    );
    let (ok, out) = s.commit("a broken template");
    assert!(!ok, "the commit should be refused:\n{out}");
    assert!(
        out.contains("charts/demo: helm template failed with charts/demo/ci/small-values.yaml"),
        "{out}"
    );
    assert!(out.contains("charts/demo/templates/broken.yaml"), "{out}");
    std::fs::remove_file(s.user.join("charts/demo/templates/broken.yaml")).unwrap();

    // The rendered-manifest hook: a duplicate key in a manifest under deploy/.
    write(
        &s.user,
        "deploy/settings.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: web\ndata:\n  a: \"1\"\n  a: \"2\"\n",
    );
    let (ok, out) = s.commit("a duplicate key");
    assert!(!ok, "the commit should be refused:\n{out}");
    assert!(out.contains("yaml-duplicate-key"), "{out}");
    assert!(out.contains("deploy/settings.yaml"), "{out}");

    // Fixed: the commit goes through, and files outside charts never reach
    // the chart hook.
    write(
        &s.user,
        "deploy/settings.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: web\ndata:\n  a: \"2\"\n",
    );
    write(&s.user, "notes.yaml", "just: notes\n");
    let (ok, out) = s.commit("fixed");
    assert!(ok, "the fixed commit should pass:\n{out}");
    let log = s.git_ok(&s.user, &["log", "--format=%s"]);
    assert_eq!(log, "fixed\na clean chart");
}
