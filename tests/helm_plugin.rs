//! The Helm plugin (`plugin.yaml`, `scripts/helm-mclint`,
//! `scripts/helm-plugin-install`), driven the way Helm drives a plugin:
//! HELM_PLUGIN_DIR names the plugin's directory and HELM_BIN the user's helm,
//! here the project's helm-compatible `scripts/helm`.
//!
//! Not tested here (no real `helm` binary and no network on the test
//! machines): `helm plugin install` itself, and the install hook's download of
//! a release binary. The install hook's other path — building with
//! `cargo install --path` — is exercised (MCLINT_PLUGIN_DOWNLOAD=never).

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

#[test]
fn install_hook_builds_mclint_and_the_command_lints_a_chart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = plugin_dir(tmp.path());
    // The cargo-build path, in the dev profile, reusing this build's
    // dependencies (the release build the hook does by default takes minutes).
    let (code, _, err) = run(Command::new(dir.join("scripts/helm-plugin-install"))
        .env("HELM_PLUGIN_DIR", &dir)
        .env("MCLINT_PLUGIN_DOWNLOAD", "never")
        .env("MCLINT_INSTALL_PROFILE", "debug")
        .env("CARGO_TARGET_DIR", repo().join("target")));
    assert_eq!(code, Some(0), "install hook failed:\n{err}");
    let bin = dir.join("bin/mclint");
    assert!(bin.is_file(), "{err}");
    assert!(
        err.contains(&format!("mclint {}", cargo_version())),
        "the hook prints the installed version: {err}"
    );
    assert!(
        !dir.join(".crates.toml").exists(),
        "cargo bookkeeping leaked into the plugin"
    );

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
