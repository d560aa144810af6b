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
/// repository's files, without build output or local tools, with `manifest`
/// as its `plugin.yaml` (the Helm 4 archive holds `plugin.v1.yaml` there).
fn plugin_dir_with(tmp: &Path, manifest: &str) -> PathBuf {
    let dir = tmp.join("plugins/mclint");
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(repo()).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if [".git", "target", ".tools", "bin", "plugin.yaml"]
            .iter()
            .any(|n| name == *n)
        {
            continue;
        }
        std::os::unix::fs::symlink(e.path(), dir.join(&name)).unwrap();
    }
    std::os::unix::fs::symlink(repo().join(manifest), dir.join("plugin.yaml")).unwrap();
    dir
}

fn plugin_dir(tmp: &Path) -> PathBuf {
    plugin_dir_with(tmp, "plugin.yaml")
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
    // The hook downloads through scripts/install-mclint (shared with the
    // Action).
    let hook = std::fs::read_to_string(repo().join("scripts/install-mclint")).unwrap();
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
    assert!(hook.contains(r#"local member="mclint-$version-$target/mclint""#));
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

/// A YAML file as JSON, read by PyYAML from the project's venv.
fn yaml_file(path: &Path) -> serde_json::Value {
    let py = repo().join(".tools/venv/bin/python");
    assert!(py.is_file(), "run scripts/setup first");
    let o = Command::new(py)
        .args([
            "-c",
            "import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Strict SemVer 2 (what Helm's `semver.StrictNewVersion` accepts).
fn strict_semver(v: &str) -> bool {
    let (core, _build) = v.split_once('+').unwrap_or((v, ""));
    let (core, _pre) = core.split_once('-').unwrap_or((core, ""));
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
}

/// Helm's plugin name rule (`validPluginName`).
fn valid_plugin_name(n: &str) -> bool {
    !n.is_empty()
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn keys_within(what: &str, v: &serde_json::Value, allowed: &[&str]) -> Vec<String> {
    let mut errs = vec![];
    match v.as_object() {
        Some(m) => {
            for k in m.keys() {
                if !allowed.contains(&k.as_str()) {
                    errs.push(format!("{what}: unknown field `{k}`"));
                }
            }
        }
        None => errs.push(format!("{what}: not a mapping")),
    }
    errs
}

/// The rules Helm 4 applies when it loads a legacy (Helm 3) manifest
/// (`loadMetadataLegacy`: MetadataLegacy.Validate, then Metadata.Validate),
/// plus unknown fields, which Helm ignores there and so would hide a typo.
fn legacy_manifest_errors(m: &serde_json::Value) -> Vec<String> {
    let mut errs = keys_within(
        "plugin.yaml",
        m,
        &[
            "name",
            "version",
            "usage",
            "description",
            "platformCommand",
            "command",
            "ignoreFlags",
            "platformHooks",
            "hooks",
            "downloaders",
        ],
    );
    if m.get("apiVersion").is_some() {
        errs.push("plugin.yaml: an apiVersion makes Helm 4 read it as a v1 manifest".into());
    }
    if !m["name"].as_str().is_some_and(valid_plugin_name) {
        errs.push(format!("plugin.yaml: invalid name {}", m["name"]));
    }
    if !m["version"].as_str().is_some_and(strict_semver) {
        errs.push(format!("plugin.yaml: invalid version {}", m["version"]));
    }
    if m.get("command").is_some() && m.get("platformCommand").is_some() {
        errs.push("plugin.yaml: both platformCommand and command are set".into());
    }
    if m.get("hooks").is_some() && m.get("platformHooks").is_some() {
        errs.push("plugin.yaml: both platformHooks and hooks are set".into());
    }
    if m.get("command").is_none() && m.get("platformCommand").is_none() {
        errs.push("plugin.yaml: no command".into());
    }
    if let Some(h) = m.get("hooks") {
        errs.extend(keys_within(
            "plugin.yaml hooks",
            h,
            &["install", "update", "delete"],
        ));
        for (k, v) in h.as_object().into_iter().flatten() {
            if !v.is_string() {
                errs.push(format!("plugin.yaml hooks.{k}: not a string"));
            }
        }
    }
    for k in ["name", "version", "usage", "description", "command"] {
        if m.get(k).is_some_and(|v| !v.is_string()) {
            errs.push(format!("plugin.yaml {k}: not a string"));
        }
    }
    errs
}

const PLATFORMS: [(&str, &str); 4] = [
    ("linux", "amd64"),
    ("linux", "arm64"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
];

/// One `platformCommand` list (Helm's []PlatformCommand): its errors, and the
/// command per (os, arch) it names.
fn platform_commands(
    what: &str,
    list: &serde_json::Value,
    errs: &mut Vec<String>,
) -> Vec<((String, String), String)> {
    let mut out = vec![];
    let Some(items) = list.as_array() else {
        errs.push(format!("{what}: not a list"));
        return out;
    };
    for (i, c) in items.iter().enumerate() {
        let at = format!("{what}[{i}]");
        errs.extend(keys_within(&at, c, &["os", "arch", "command", "args"]));
        let os = c["os"].as_str().unwrap_or_default().to_string();
        let arch = c["arch"].as_str().unwrap_or_default().to_string();
        let Some(cmd) = c["command"].as_str().filter(|c| !c.is_empty()) else {
            errs.push(format!("{at}: no command"));
            continue;
        };
        if let Some(a) = c.get("args")
            && !a
                .as_array()
                .is_some_and(|a| a.iter().all(|x| x.is_string()))
        {
            errs.push(format!("{at}: args must be a list of strings"));
        }
        if !PLATFORMS.contains(&(os.as_str(), arch.as_str())) {
            errs.push(format!(
                "{at}: {os}/{arch} is not a supported platform (Linux and macOS on amd64 and arm64)"
            ));
        }
        if out.iter().any(|(p, _)| *p == (os.clone(), arch.clone())) {
            errs.push(format!("{at}: {os}/{arch} listed twice"));
        }
        out.push(((os, arch), cmd.to_string()));
    }
    for (os, arch) in PLATFORMS {
        if !out.iter().any(|((o, a), _)| o == os && a == arch) {
            errs.push(format!("{what}: nothing for {os}/{arch}"));
        }
    }
    out
}

/// The rules Helm 4 applies to an `apiVersion: v1` manifest
/// (`loadMetadataV1`: decoding with known fields only, MetadataV1.Validate,
/// the cli/v1 config and the subprocess runtime config), and this plugin's
/// own: a command and install/update hooks for each supported platform.
fn v1_manifest_errors(m: &serde_json::Value) -> Vec<String> {
    let mut errs = keys_within(
        "plugin.v1.yaml",
        m,
        &[
            "apiVersion",
            "name",
            "type",
            "runtime",
            "version",
            "sourceURL",
            "config",
            "runtimeConfig",
        ],
    );
    if m["apiVersion"] != "v1" {
        errs.push(format!("plugin.v1.yaml: apiVersion {}", m["apiVersion"]));
    }
    if m["type"] != "cli/v1" {
        errs.push(format!("plugin.v1.yaml: type {}", m["type"]));
    }
    if m["runtime"] != "subprocess" {
        errs.push(format!("plugin.v1.yaml: runtime {}", m["runtime"]));
    }
    if !m["name"].as_str().is_some_and(valid_plugin_name) {
        errs.push(format!("plugin.v1.yaml: invalid name {}", m["name"]));
    }
    if !m["version"].as_str().is_some_and(strict_semver) {
        errs.push(format!("plugin.v1.yaml: invalid version {}", m["version"]));
    }
    let config = &m["config"];
    errs.extend(keys_within(
        "plugin.v1.yaml config",
        config,
        &["usage", "shortHelp", "longHelp", "ignoreFlags"],
    ));
    for k in ["usage", "shortHelp", "longHelp"] {
        if config.get(k).is_some_and(|v| !v.is_string()) {
            errs.push(format!("plugin.v1.yaml config.{k}: not a string"));
        }
    }
    if config.get("ignoreFlags").is_some_and(|v| !v.is_boolean()) {
        errs.push("plugin.v1.yaml config.ignoreFlags: not a boolean".into());
    }
    let rc = &m["runtimeConfig"];
    errs.extend(keys_within(
        "plugin.v1.yaml runtimeConfig",
        rc,
        &["platformCommand", "platformHooks", "protocolCommands"],
    ));
    platform_commands(
        "plugin.v1.yaml runtimeConfig.platformCommand",
        &rc["platformCommand"],
        &mut errs,
    );
    let hooks = &rc["platformHooks"];
    errs.extend(keys_within(
        "plugin.v1.yaml runtimeConfig.platformHooks",
        hooks,
        &["install", "update", "delete"],
    ));
    for h in ["install", "update"] {
        platform_commands(
            &format!("plugin.v1.yaml runtimeConfig.platformHooks.{h}"),
            &hooks[h],
            &mut errs,
        );
    }
    errs
}

/// Helm's GOOS/GOARCH for this machine.
fn host_platform() -> (String, String) {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        o => o,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        a => a,
    };
    (os.to_string(), arch.to_string())
}

/// The command Helm 4 runs for this platform from a list of platform
/// commands, `${VAR}`/`$VAR` expanded from `env` as Helm's os.Expand does.
fn resolve(list: &serde_json::Value, env: &[(&str, &Path)]) -> Vec<String> {
    let mut errs = vec![];
    let cmds = platform_commands("resolve", list, &mut errs);
    let host = host_platform();
    let cmd = &cmds
        .iter()
        .find(|(p, _)| *p == host)
        .unwrap_or_else(|| panic!("no command for {host:?}"))
        .1;
    let expand = |s: &str| {
        let mut s = s.to_string();
        for (k, v) in env {
            s = s
                .replace(&format!("${{{k}}}"), &v.display().to_string())
                .replace(&format!("${k}"), &v.display().to_string());
        }
        assert!(!s.contains('$'), "unexpanded variable in {s}");
        s
    };
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["os"] == host.0.as_str() && c["arch"] == host.1.as_str())
        .unwrap();
    let mut argv = vec![expand(cmd)];
    for a in entry["args"].as_array().into_iter().flatten() {
        argv.push(expand(a.as_str().unwrap()));
    }
    argv
}

#[test]
fn both_plugin_manifests_load_under_helms_rules_and_agree() {
    let legacy = yaml_file(&repo().join("plugin.yaml"));
    let v1 = yaml_file(&repo().join("plugin.v1.yaml"));
    assert_eq!(legacy_manifest_errors(&legacy), Vec::<String>::new());
    assert_eq!(v1_manifest_errors(&v1), Vec::<String>::new());
    // One plugin, two manifests: same name, version, help and scripts.
    assert_eq!(v1["name"], legacy["name"]);
    assert_eq!(v1["version"], cargo_version().as_str());
    assert_eq!(legacy["version"], cargo_version().as_str());
    assert_eq!(v1["config"]["shortHelp"], legacy["usage"]);
    assert_eq!(v1["config"]["longHelp"], legacy["description"]);
    assert_eq!(v1["config"]["ignoreFlags"], legacy["ignoreFlags"]);
    let dir = Path::new("/plugins/mclint");
    let env = [("HELM_PLUGIN_DIR", dir)];
    let legacy_cmd = legacy["command"]
        .as_str()
        .unwrap()
        .replace("$HELM_PLUGIN_DIR", "/plugins/mclint");
    assert_eq!(
        resolve(&v1["runtimeConfig"]["platformCommand"], &env),
        [legacy_cmd]
    );
    for h in ["install", "update"] {
        let legacy_hook = legacy["hooks"][h]
            .as_str()
            .unwrap()
            .replace("$HELM_PLUGIN_DIR", "/plugins/mclint");
        assert_eq!(
            resolve(&v1["runtimeConfig"]["platformHooks"][h], &env),
            [legacy_hook]
        );
    }

    // The checks catch what Helm refuses.
    let mut bad = v1.clone();
    bad["runtimeConfig"]["platformCommand"][0]["cmd"] = "x".into();
    bad["apiVersion"] = "v2".into();
    bad["version"] = "0.1".into();
    bad["command"] = "x".into();
    bad["runtimeConfig"]["platformHooks"]["install"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"os": "windows", "arch": "amd64", "command": "x.ps1"}));
    let errs = v1_manifest_errors(&bad).join("\n");
    for want in [
        "plugin.v1.yaml: unknown field `command`",
        "platformCommand[0]: unknown field `cmd`",
        "apiVersion \"v2\"",
        "invalid version \"0.1\"",
        "windows/amd64 is not a supported platform",
    ] {
        assert!(errs.contains(want), "{want} not in:\n{errs}");
    }
    let mut bad = legacy.clone();
    bad["platformCommand"] = serde_json::json!([{"os": "linux", "command": "x"}]);
    bad["name"] = "mc lint".into();
    let errs = legacy_manifest_errors(&bad).join("\n");
    assert!(
        errs.contains("both platformCommand and command are set"),
        "{errs}"
    );
    assert!(errs.contains("invalid name \"mc lint\""), "{errs}");
    for (v, ok) in [
        ("0.1.0", true),
        ("1.2.3-rc.1+b5", true),
        ("01.2.3", false),
        ("1.2", false),
        ("v1.2.3", false),
    ] {
        assert_eq!(strict_semver(v), ok, "{v}");
    }
}

/// The Helm 4 manifest driven as Helm 4 does: the install hook and the
/// command chosen for this platform from `platformHooks`/`platformCommand`,
/// in a plugin directory whose `plugin.yaml` is `plugin.v1.yaml` (the
/// release's Helm 4 archive).
#[test]
fn the_v1_manifest_installs_and_runs_on_this_platform() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = plugin_dir_with(tmp.path(), "plugin.v1.yaml");
    let (fake_bin, log) = fake_cargo(tmp.path());
    let path = format!(
        "{}:{}",
        fake_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let v1 = yaml_file(&dir.join("plugin.yaml"));
    let env = [("HELM_PLUGIN_DIR", dir.as_path())];
    let hook = resolve(&v1["runtimeConfig"]["platformHooks"]["install"], &env);
    let (code, _, err) = run(Command::new(&hook[0])
        .args(&hook[1..])
        .env("PATH", &path)
        .env("HELM_PLUGIN_DIR", &dir)
        .env("HELM_PLUGIN_NAME", "mclint")
        .env("MCLINT_PLUGIN_DOWNLOAD", "never"));
    assert_eq!(code, Some(0), "install hook failed:\n{err}");
    assert!(std::fs::read_to_string(&log).unwrap().contains("install"));
    assert!(dir.join("bin/mclint").is_file());
    let cmd = resolve(&v1["runtimeConfig"]["platformCommand"], &env);
    let (code, out, err) = run(Command::new(&cmd[0])
        .args(&cmd[1..])
        .current_dir(repo())
        .env("HELM_PLUGIN_DIR", &dir)
        .env("HELM_PLUGIN_NAME", "mclint")
        .env("HELM_BIN", repo().join("scripts/helm"))
        .args([
            "cache",
            "charts/distributed-memcached",
            "--",
            "--format",
            "json",
            "--fail-on",
            "never",
        ]));
    assert_eq!(code, Some(0), "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert!(v["summary"]["objects"].as_u64().unwrap() >= 3, "{v}");
}
