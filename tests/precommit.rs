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

/// A scratch user repository whose `.pre-commit-config.yaml` uses this
/// tree's hooks with `hooks_yaml` (the `hooks:` list, indented 6 spaces),
/// with pre-commit installed; `mclint` (the built binary) and `bin/` are on
/// PATH.
fn scratch(hooks_yaml: &str) -> Scratch {
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

    std::fs::create_dir_all(&user).unwrap();
    s.git_ok(&user, &["init", "-q"]);
    write(
        &user,
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n{hooks_yaml}",
            hooks.display()
        ),
    );
    let out = s.cmd(&pre_commit(), &user).arg("install").output().unwrap();
    assert!(
        out.status.success(),
        "pre-commit install: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    s
}

fn setup() -> Scratch {
    let s =
        scratch("      - id: mclint-chart\n      - id: mclint-system\n        files: ^deploy/\n");
    let user = &s.user;
    // The user's repository: a chart and a rendered manifest.
    write(user, "charts/demo/Chart.yaml", CHART_YAML);
    write(user, "charts/demo/values.yaml", "port: 80\n");
    write(user, "charts/demo/ci/small-values.yaml", "port: 8080\n");
    write(user, "charts/demo/templates/configmap.yaml", CONFIGMAP);
    write(
        user,
        "deploy/settings.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: web\ndata:\n  a: \"1\"\n",
    );
    write(user, "README.md", "scratch\n");
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

/// The hook's own view of its arguments: `mclint-chart --hook -- FILES...`
/// (the manifest's entry, its default args, then the files).
fn hook_entry_and_args() -> Vec<String> {
    let text = std::fs::read_to_string(repo().join(".pre-commit-hooks.yaml")).unwrap();
    let block = text.split("\n- id: mclint-chart\n").nth(1).unwrap();
    let entry = block
        .lines()
        .find_map(|l| l.trim().strip_prefix("entry: "))
        .unwrap();
    let args = block
        .lines()
        .find_map(|l| l.trim().strip_prefix("args: "))
        .unwrap();
    assert_eq!(entry, "scripts/mclint-chart --hook");
    assert_eq!(args, "[--]");
    vec!["--hook".into(), "--".into()]
}

const DUPLICATE: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\ndata: {}\n";

#[test]
fn file_names_are_never_options() {
    // A chart at the root of the repository, with an error (two objects of
    // the same name) and files named like the hook's options, mclint's
    // options, `--` and `-h`: each is a file.
    let s = scratch("      - id: mclint-chart\n");
    let user = &s.user;
    let marker = user.join("../helm-ran");
    let evil = user.join("../bin/evil.yaml");
    write(
        &user.join(".."),
        "bin/evil.yaml",
        &format!("#!/bin/sh\ntouch '{}'\nexit 0\n", marker.display()),
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&evil, std::fs::Permissions::from_mode(0o755)).unwrap();
    write(user, "Chart.yaml", CHART_YAML);
    write(user, "templates/configmap.yaml", CONFIGMAP);
    write(user, "templates/copy.yaml", DUPLICATE);
    let hostile = [
        "--helm=evil.yaml",
        "--mclint=evil.yaml",
        "--fail-on=never.yaml",
        "--check-args=--fail-on never.yaml",
        "-x.yaml",
        "-h",
        "--",
        "--help",
        "-n",
    ];
    for name in hostile {
        write(user, name, "a: 1\n");
    }

    // Through pre-commit: the names it passes (those matching the hook's
    // `files`) cannot switch the check off or run a program.
    let (ok, out) = s.commit("hostile names");
    assert!(!ok, "the commit should be refused:\n{out}");
    assert!(
        out.contains("templates/copy.yaml:4: error[duplicate-object]"),
        "{out}"
    );
    assert!(!marker.exists(), "a file name ran a program:\n{out}");

    // The script with every name, as pre-commit calls it.
    let mut args = hook_entry_and_args();
    args.extend(hostile.iter().map(|n| n.to_string()));
    args.push("templates/copy.yaml".into());
    let o = s
        .cmd(&repo().join("scripts/mclint-chart"), user)
        .args(&args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(text.contains("error[duplicate-object]"), "{text}");
    assert!(
        !text.contains("Render every Helm chart"),
        "help printed: {text}"
    );
    assert!(!marker.exists());

    // Hook mode without the `--` (args overridden without it) is refused,
    // not guessed.
    let o = s
        .cmd(&repo().join("scripts/mclint-chart"), user)
        .args([
            "--hook",
            "--check-args",
            "--fail-on never",
            "--fail-on=never.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--hook needs `--` before the file names"),
        "{err}"
    );
    let o = s
        .cmd(&repo().join("scripts/mclint-chart"), user)
        .args(["--hook", "--fail-on=never.yaml", "--", "Chart.yaml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--fail-on=never.yaml before `--` is not an option of mclint-chart"),
        "{err}"
    );
    // By hand: options first, and a missing file (an old `FILE -- ARGS`
    // command line) is named (`--` is a file here: this repository has one).
    let o = s
        .cmd(&repo().join("scripts/mclint-chart"), user)
        .args(["Chart.yaml", "--", "--fail-on", "never"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--fail-on: no such file (mclint's options go in --check-args"),
        "{err}"
    );
    let o = s
        .cmd(&repo().join("scripts/mclint-chart"), user)
        .args(["--check-args", "--fail-on never", "--", "-x.yaml"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The hook checks each ci values file against the chart's
/// values.schema.json first (`mclint values`): a typo is an error at the
/// values file's line, naming the keys the schema knows.
#[test]
fn values_file_typos_are_errors_at_their_line() {
    let s = scratch("      - id: mclint-chart\n");
    let user = &s.user;
    write(user, "charts/demo/Chart.yaml", CHART_YAML);
    write(user, "charts/demo/values.yaml", "port: 80\n");
    write(
        user,
        "charts/demo/values.schema.json",
        r#"{"type": "object", "additionalProperties": false, "properties": {"port": {"type": "integer"}}}"#,
    );
    write(user, "charts/demo/templates/configmap.yaml", CONFIGMAP);
    write(user, "charts/demo/ci/small-values.yaml", "port: 8080\n");
    let (ok, out) = s.commit("valid");
    assert!(ok, "{out}");
    write(
        user,
        "charts/demo/ci/small-values.yaml",
        "port: 8080\nprot: 81\n",
    );
    let (ok, out) = s.commit("a typo in a values file");
    assert!(!ok, "{out}");
    assert!(
        out.contains("charts/demo/ci/small-values.yaml:2: error[values-schema] /prot: unknown key `prot` in the values (known: port)"),
        "{out}"
    );
}

#[test]
fn a_charts_own_fail_is_an_error() {
    let s = scratch("      - id: mclint-chart\n");
    let user = &s.user;
    write(user, "charts/demo/Chart.yaml", CHART_YAML);
    write(user, "charts/demo/values.yaml", "port: 80\nmode: sidecar\n");
    write(user, "charts/demo/templates/configmap.yaml", CONFIGMAP);
    write(
        user,
        "charts/demo/templates/validate.yaml",
        "{{- if ne .Values.mode \"sidecar\" }}\n{{- fail (printf \"mode %q needs localCache.enabled\\n\\u001b[2Jcleared\" .Values.mode) }}\n{{- end }}\n",
    );
    let (ok, out) = s.commit("valid");
    assert!(ok, "{out}");
    write(user, "charts/demo/ci/bad-values.yaml", "mode: daemonset\n");
    let (ok, out) = s.commit("values the chart refuses");
    assert!(!ok, "{out}");
    assert!(
        out.contains("charts/demo/templates/validate.yaml:2: error[chart-fail]: the chart refuses these values: mode \"daemonset\" needs localCache.enabled\\n\\x1b[2Jcleared (rendered with charts/demo/ci/bad-values.yaml)"),
        "{out}"
    );
    assert!(!out.contains('\u{1b}'), "{out}");
}

#[test]
fn manifest_hook_lints_only_manifests_and_proxy_configs() {
    // The README's example: no `files:`, in a repository holding the usual
    // YAML that is not Kubernetes.
    let s = scratch("      - id: mclint-system\n");
    let user = &s.user;
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: web\ndata:\n  a: \"1\"\n";
    write(user, "deploy/settings.yaml", cm);
    write(
        user,
        "deploy/proxy.lua",
        "pools {\n    main = { backends = { \"cache-0.cache:11211\", \"cache-1.cache:11211\" } },\n}\nroutes {\n    default = route_direct { child = \"main\" },\n}\n",
    );
    for (name, text) in [
        (
            "docker-compose.yml",
            "services:\n  web:\n    image: nginx\n",
        ),
        ("docker-compose.override.yaml", "services: {}\n"),
        ("compose.yaml", "services: {}\n"),
        (".gitlab-ci.yml", "test:\n  script: [make]\n"),
        (
            "helmfile.yaml",
            "releases:\n  - name: web\n    chart: ./charts/web\n",
        ),
        (
            "kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [deploy/settings.yaml]\n",
        ),
        ("values.yaml", "replicas: 3\n"),
        ("values-prod.yaml", "replicas: 5\n"),
        ("deploy/prod-values.yaml", "replicas: 5\n"),
        (
            "charts/web/Chart.yaml",
            "apiVersion: v2\nname: web\nversion: 0.1.0\n",
        ),
        (
            "charts/web/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n",
        ),
        (".github/workflows/ci.yml", "on: push\njobs: {}\n"),
        (".github/dependabot.yml", "version: 2\n"),
        (".pre-commit-hooks.yaml", "- id: x\n"),
        (
            "skaffold.yaml",
            "apiVersion: skaffold/v4beta11\nkind: Config\n",
        ),
        // Not excluded by name, skipped as not Kubernetes (no apiVersion, no kind).
        ("config/app.yaml", "listen: 8080\nfeatures: [a, b]\n"),
        ("ansible/site.yml", "- hosts: all\n  tasks: []\n"),
    ] {
        write(user, name, text);
    }
    let (ok, out) = s.commit("an ordinary repository");
    assert!(ok, "the commit should pass:\n{out}");

    // Which files reached mclint: the manifest, the proxy config and the two
    // non-Kubernetes files that no pattern excludes (skipped and counted).
    let o = s
        .cmd(&pre_commit(), user)
        .args(["run", "--all-files", "--verbose"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{text}");
    assert!(
        text.contains("1 document, 1 object: 0 errors, 0 warnings, 0 infos (1 proxy config), 2 documents skipped (not Kubernetes objects)"),
        "{text}"
    );

    // A real error in a manifest still fails the commit.
    write(
        user,
        "deploy/settings.yaml",
        &format!(
            "{cm}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: web\n"
        ),
    );
    let (ok, out) = s.commit("a duplicate");
    assert!(!ok, "{out}");
    assert!(out.contains("duplicate-object"), "{out}");
}

#[test]
fn building_mclint_in_the_hook_clone_is_announced_with_its_time() {
    // The hook's clone holds the crate (Cargo.toml) and no built mclint; no
    // mclint on PATH. A fake `cargo` records its arguments and "builds" by
    // linking the test's binary, so the path runs without a second build.
    let tmp = tempfile::tempdir().unwrap();
    let clone = tmp.path().join("clone");
    write(&clone, "Cargo.toml", "[package]\nname = \"mclint\"\n");
    std::fs::create_dir_all(clone.join("scripts")).unwrap();
    std::fs::copy(
        repo().join("scripts/mclint-chart"),
        clone.join("scripts/mclint-chart"),
    )
    .unwrap();
    let bin = tmp.path().join("bin");
    let log = tmp.path().join("cargo.log");
    write(
        &bin,
        "cargo",
        &format!(
            "#!/bin/sh\nprintf '%s\\n' \"$PWD $*\" >> '{log}'\nmkdir -p target/release\nln -sf '{mclint}' target/release/mclint\n",
            log = log.display(),
            mclint = env!("CARGO_BIN_EXE_mclint")
        ),
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("cargo"), std::fs::Permissions::from_mode(0o755)).unwrap();
    // PATH: the fake cargo, python3 and git, and no mclint.
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display());
    let chart = tmp.path().join("work/charts/demo");
    write(&chart, "Chart.yaml", CHART_YAML);
    write(&chart, "values.yaml", "port: 80\n");
    write(&chart, "templates/configmap.yaml", CONFIGMAP);
    let run = || {
        Command::new(clone.join("scripts/mclint-chart"))
            .current_dir(tmp.path().join("work"))
            .env("PATH", &path)
            .env_remove("MCLINT")
            .env("HELM_BIN", repo().join("scripts/helm"))
            .args(["--hook", "--", "charts/demo/values.yaml"])
            .output()
            .unwrap()
    };
    assert!(
        !std::env::split_paths(&path).any(|d| d.join("mclint").exists()),
        "an mclint on PATH would be used instead"
    );
    let o = run();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{err}{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(
        err.matches("building it with `cargo build --release --locked`")
            .count(),
        1,
        "{err}"
    );
    assert!(
        err.lines().any(|l| l.starts_with("mclint-chart: built ")
            && l.contains("target/release/mclint in ")
            && l.ends_with(" s")),
        "{err}"
    );
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        calls.trim(),
        format!(
            "{} build --release --locked --quiet --bin mclint",
            clone.display()
        )
    );
    // Built once: the next run uses it, silently.
    let o = run();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&o.stderr), "");
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 1);
}
