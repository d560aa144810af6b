//! The Helm plugin (`plugin.yaml`, `scripts/helm-mclint`,
//! `scripts/helm-plugin-install`), driven the way Helm drives a plugin:
//! HELM_PLUGIN_DIR names the plugin's directory and HELM_BIN the user's helm,
//! here the project's helm-compatible `scripts/helm`.
//!
//! Not tested here (no real `helm` binary and no network on the test
//! machines): `helm plugin install` itself, and the install hook's download of
//! a release binary. The install hook's other path — building with
//! `cargo install --path` — is exercised (MCLINT_PLUGIN_DOWNLOAD=never)
//! with a fake `cargo` first on PATH that records its arguments and installs
//! this test's already-built binary, so the test does not build the crate a
//! second time (that took minutes on a fresh clone).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::repo;

fn field<'a>(yaml: &'a str, key: &str) -> Option<&'a str> {
    yaml.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(|v| v.trim().trim_matches('"'))
}

fn cargo_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

#[test]
fn plugin_yaml_names_the_scripts_and_follows_the_crate_version() {
    let text = std::fs::read_to_string(repo().join("plugin.yaml")).unwrap();
    assert_eq!(field(&text, "name"), Some("mclint"));
    assert_eq!(
        field(&text, "version"),
        Some(cargo_version().as_str()),
        "plugin.yaml's version must follow Cargo.toml"
    );
    assert_eq!(
        field(&text, "command"),
        Some("$HELM_PLUGIN_DIR/scripts/helm-mclint")
    );
    assert!(
        text.contains("  install: \"$HELM_PLUGIN_DIR/scripts/helm-plugin-install\""),
        "{text}"
    );
    for script in ["scripts/helm-mclint", "scripts/helm-plugin-install"] {
        let meta = std::fs::metadata(repo().join(script)).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert!(
            meta.permissions().mode() & 0o111 != 0,
            "{script} is not executable"
        );
    }
}

/// A plugin directory like the one `helm plugin install` makes: the
/// repository's files, without build output or local tools.
fn plugin_dir(tmp: &Path) -> PathBuf {
    let dir = tmp.join("plugins/mclint");
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(repo()).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if [".git", "target", ".tools", "bin"]
            .iter()
            .any(|n| name == *n)
        {
            continue;
        }
        std::os::unix::fs::symlink(e.path(), dir.join(&name)).unwrap();
    }
    dir
}

fn run(cmd: &mut Command) -> (Option<i32>, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A `cargo` that logs its arguments and, for `cargo install ... --root
/// ROOT`, puts this test's mclint at ROOT/bin/mclint, as the real one would
/// after building it.
fn fake_cargo(dir: &Path) -> (PathBuf, PathBuf) {
    let bin = dir.join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("cargo.log");
    let script = format!(
        r#"#!/usr/bin/env bash
printf '%s\n' "$*" >> '{log}'
root=""
while [ $# -gt 0 ]; do
  if [ "$1" = --root ]; then root="$2"; fi
  shift
done
[ -n "$root" ] || {{ echo "fake cargo: no --root" >&2; exit 101; }}
mkdir -p "$root/bin"
cp '{mclint}' "$root/bin/mclint"
printf '[v1]\n' > "$root/.crates.toml"
"#,
        log = log.display(),
        mclint = env!("CARGO_BIN_EXE_mclint")
    );
    std::fs::write(bin.join("cargo"), script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("cargo"), std::fs::Permissions::from_mode(0o755)).unwrap();
    (bin, log)
}

#[test]
fn install_hook_builds_mclint_and_the_command_lints_a_chart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = plugin_dir(tmp.path());
    let (fake_bin, log) = fake_cargo(tmp.path());
    let path = format!(
        "{}:{}",
        fake_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // The cargo-build path, in both profiles: the hook's arguments to cargo
    // (locked, only the mclint binary, into a scratch root, not the plugin).
    for (profile, debug) in [("release", ""), ("debug", " --debug")] {
        let _ = std::fs::remove_file(&log);
        let _ = std::fs::remove_file(dir.join("bin/mclint"));
        let (code, _, err) = run(Command::new(dir.join("scripts/helm-plugin-install"))
            .env("PATH", &path)
            .env("HELM_PLUGIN_DIR", &dir)
            .env("MCLINT_PLUGIN_DOWNLOAD", "never")
            .env("MCLINT_INSTALL_PROFILE", profile));
        assert_eq!(code, Some(0), "install hook failed:\n{err}");
        let calls = std::fs::read_to_string(&log).unwrap();
        let calls: Vec<&str> = calls.lines().collect();
        assert_eq!(calls.len(), 1, "{calls:?}");
        let root = calls[0]
            .split(" --root ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .unwrap();
        assert_eq!(
            calls[0],
            format!(
                "install --quiet --locked{debug} --path {} --root {root} --bin mclint",
                dir.display()
            )
        );
        assert!(!Path::new(root).starts_with(&dir), "{root}");
        assert!(
            !Path::new(root).exists(),
            "the scratch root is removed: {root}"
        );
        assert!(
            err.contains("building mclint 0.1.0 with cargo install"),
            "{err}"
        );
        assert!(
            err.contains(&format!("mclint {}", cargo_version())),
            "the hook prints the installed version: {err}"
        );
    }
    let bin = dir.join("bin/mclint");
    assert!(bin.is_file());
    assert!(
        !dir.join(".crates.toml").exists(),
        "cargo bookkeeping leaked into the plugin"
    );
    // No cargo at all: a clear failure.
    let empty = tmp.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    for tool in [
        "bash", "sed", "head", "uname", "mktemp", "rm", "git", "dirname", "cut",
    ] {
        if let Some(p) = std::env::split_paths(&std::env::var_os("PATH").unwrap())
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
        {
            std::os::unix::fs::symlink(p, empty.join(tool)).unwrap();
        }
    }
    let (code, _, err) = run(Command::new(dir.join("scripts/helm-plugin-install"))
        .env("PATH", &empty)
        .env("HELM_PLUGIN_DIR", &dir)
        .env("MCLINT_PLUGIN_DOWNLOAD", "never"));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("cargo is not installed"), "{err}");

    let helm = |args: &[&str]| {
        run(Command::new(dir.join("scripts/helm-mclint"))
            .current_dir(repo())
            .env("HELM_PLUGIN_DIR", &dir)
            .env("HELM_BIN", repo().join("scripts/helm"))
            .args(args))
    };

    // A rendering of the bundled chart, linted, JSON requested after `--`.
    let (code, out, err) = helm(&[
        "cache",
        "charts/distributed-memcached",
        "-n",
        "cache",
        "-f",
        "charts/distributed-memcached/ci/daemonset-values.yaml",
        "--",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert!(
        v["summary"]["objects"].as_u64().unwrap() >= 5,
        "the daemonset rendering has a Service, a DaemonSet, a StatefulSet...: {v}"
    );
    // Findings name the chart's templates (helm's `# Source:`).
    for f in v["findings"].as_array().unwrap() {
        assert!(
            f["source"]
                .as_str()
                .unwrap()
                .starts_with("distributed-memcached/templates/"),
            "{f}"
        );
    }

    // A rendering with a finding: exit 1, text report naming the template.
    let bad = tmp.path().join("bad");
    std::fs::create_dir_all(bad.join("templates")).unwrap();
    std::fs::write(
        bad.join("Chart.yaml"),
        "apiVersion: v2\nname: bad\nversion: 0.1.0\n",
    )
    .unwrap();
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: same\n  namespace: x\ndata: {}\n";
    std::fs::write(bad.join("templates/a.yaml"), cm).unwrap();
    std::fs::write(bad.join("templates/b.yaml"), cm).unwrap();
    let (code, out, err) = helm(&[bad.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("bad/templates/b.yaml"), "{out}");
    assert!(out.contains("duplicate-object"), "{out}");

    // helm template fails: helm's message, exit 2, nothing linted.
    std::fs::write(bad.join("templates/c.yaml"), "{{ fail \"no thanks\" }}\n").unwrap();
    let (code, _, err) = helm(&[bad.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no thanks"), "{err}");
    assert!(err.contains("nothing was linted"), "{err}");

    // No arguments: usage, exit 2.
    let (code, out, _) = helm(&[]);
    assert_eq!(code, Some(2));
    assert!(out.contains("Usage: helm mclint"), "{out}");
}

/// The install hook downloads `mclint-<version>-<target>.tar.gz`: every target
/// it asks for must be one the release workflow builds, with the same names.
#[test]
fn release_workflow_builds_every_target_the_install_hook_downloads() {
    let py = repo().join(".tools/venv/bin/python");
    assert!(py.is_file(), "run scripts/setup first");
    let o = Command::new(py)
        .args([
            "-c",
            "import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(repo().join(".github/workflows/release.yml"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let wf: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // `on:` reads as the boolean true in YAML 1.1.
    let on = wf.get("on").or_else(|| wf.get("true")).unwrap();
    assert_eq!(on["push"]["tags"][0], "v*");
    let built: Vec<&str> = wf["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["target"].as_str().unwrap())
        .collect();
    let hook = std::fs::read_to_string(repo().join("scripts/helm-plugin-install")).unwrap();
    let wanted: Vec<&str> = hook
        .lines()
        .filter_map(|l| l.split("target=\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .filter(|t| !t.is_empty())
        .collect();
    assert_eq!(wanted.len(), 4, "{wanted:?}");
    for t in &wanted {
        assert!(
            built.contains(t),
            "the release does not build {t}: {built:?}"
        );
    }
    let wf_text = std::fs::read_to_string(repo().join(".github/workflows/release.yml")).unwrap();
    assert!(wf_text.contains(r#"name="mclint-$VERSION-$TARGET""#));
    assert!(hook.contains(r#"local name="mclint-$version-$target.tar.gz""#));
    assert!(hook.contains(r#""$tmp/mclint-$version-$target/mclint""#));
}

/// Users pin `vX.Y.Z` (pre-commit `rev:`, the Action's `@`), and the plugin's
/// install hook downloads the binaries of `plugin.yaml`'s version: every place
/// that names the version follows Cargo.toml (docs/releasing.md).
#[test]
fn versions_agree_across_the_release_files() {
    let v = cargo_version();
    let plugin = std::fs::read_to_string(repo().join("plugin.yaml")).unwrap();
    assert_eq!(field(&plugin, "version"), Some(v.as_str()), "plugin.yaml");
    let tag = format!("v{v}");
    // Every `rev: vX.Y.Z` and `distributed-memcached@vX.Y.Z` in the files
    // users copy from.
    let mut seen = 0;
    for file in ["README.md", "action.yml", ".pre-commit-hooks.yaml"] {
        let text = std::fs::read_to_string(repo().join(file)).unwrap();
        for (marker, stop) in [
            ("rev: ", &[' ', '\n', '#'][..]),
            ("distributed-memcached@", &[' ', '\n', '`'][..]),
        ] {
            for (i, _) in text.match_indices(marker) {
                let rest = &text[i + marker.len()..];
                let found = rest.split(stop).next().unwrap().trim();
                if !found.starts_with('v') || !found[1..].starts_with(|c: char| c.is_ascii_digit())
                {
                    continue;
                }
                seen += 1;
                assert_eq!(
                    found, tag,
                    "{file}: {marker}{found} but Cargo.toml says {v}"
                );
            }
        }
    }
    assert!(seen >= 4, "the examples were not found ({seen})");
    let changelog = std::fs::read_to_string(repo().join("CHANGELOG.md")).unwrap();
    assert!(
        changelog.contains(&format!("## [{v}]")) || changelog.contains("## [Unreleased]"),
        "CHANGELOG.md has no section for {v}"
    );
    assert!(
        changelog.contains(&format!("[{v}]: ")),
        "CHANGELOG.md links no {v}"
    );
    let releasing = std::fs::read_to_string(repo().join("docs/releasing.md")).unwrap();
    assert!(releasing.contains("git tag -a vX.Y.Z"), "docs/releasing.md");
}
