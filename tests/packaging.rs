//! The crate as `cargo publish` would ship it: `cargo package --list` and
//! `cargo package --no-verify` (offline, into a scratch directory: nothing is
//! compiled) — the files it holds and leaves out, the metadata crates.io
//! needs, and the compressed size under crates.io's 10 MiB limit. The full
//! `cargo publish --dry-run` (which also builds the packaged crate) is a step
//! of the release checklist (docs/releasing.md).

mod support;

use std::process::Command;

use support::repo;

fn cargo(args: &[&str], target: &std::path::Path) -> String {
    let o = Command::new(env!("CARGO"))
        .args(args)
        .args(["-p", "mclint", "--allow-dirty", "--locked", "--offline"])
        .arg("--target-dir")
        .arg(target)
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "cargo {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn the_crate_ships_sources_schemas_and_docs_only_within_the_size_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let list = cargo(&["package", "--list"], tmp.path());
    let files: Vec<&str> = list.lines().collect();
    for must in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        "LICENSE",
        "CHANGELOG.md",
        "src/main.rs",
        "src/lib.rs",
        "src/proxy/prelude.lua",
        "benches/route.rs",
    ] {
        assert!(files.contains(&must), "{must} not packaged");
    }
    // Every schema the binary embeds (include_str! in src/schema/embedded.rs)
    // is in the package, or the packaged crate would not build.
    let embedded = std::fs::read_to_string(repo().join("src/schema/embedded.rs")).unwrap();
    let mut n = 0;
    for part in embedded.split("include_str!(\"../../").skip(1) {
        let path = part.split('"').next().unwrap();
        assert!(files.contains(&path), "{path} is embedded but not packaged");
        n += 1;
    }
    assert!(n > 100, "only {n} embedded schemas found");
    for f in &files {
        for never in [
            "tests/", "charts/", "scripts/", "xtask/", "docs/", ".github/", ".tools/", "target/",
        ] {
            assert!(!f.starts_with(never), "{f} must not be packaged");
        }
    }
    for f in ["action.yml", "plugin.yaml", ".pre-commit-hooks.yaml"] {
        assert!(!files.contains(&f), "{f} must not be packaged");
    }

    cargo(&["package", "--no-verify"], tmp.path());
    let crate_file = tmp.path().join(format!(
        "package/mclint-{}.crate",
        env!("CARGO_PKG_VERSION")
    ));
    let size = std::fs::metadata(&crate_file).unwrap().len();
    assert!(
        size < 10 * 1024 * 1024,
        "{} is {size} bytes, over crates.io's 10 MiB",
        crate_file.display()
    );
    eprintln!("packaged crate: {size} bytes");
}

#[test]
fn cargo_toml_has_the_metadata_crates_io_shows() {
    let toml = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let package = toml.split("\n[").next().unwrap();
    for key in [
        "description = ",
        "license = \"Apache-2.0\"",
        "repository = \"https://",
        "readme = \"README.md\"",
        "keywords = [",
        "categories = [",
        "rust-version = ",
    ] {
        assert!(package.contains(key), "Cargo.toml [package] lacks {key}");
    }
    let keywords = package
        .lines()
        .find(|l| l.starts_with("keywords = "))
        .unwrap();
    let n = keywords.matches('"').count() / 2;
    assert!(
        (1..=5).contains(&n),
        "crates.io takes at most 5 keywords: {keywords}"
    );
    for k in keywords.split('"').skip(1).step_by(2) {
        assert!(
            k.len() <= 20
                && k.starts_with(|c: char| c.is_ascii_alphabetic())
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "keyword {k:?} is not one crates.io accepts"
        );
    }
    let license = std::fs::read_to_string(repo().join("LICENSE")).unwrap();
    assert!(license.contains("Apache License") && license.contains("Version 2.0, January 2004"));
}

/// The Docker image's recipe: a static musl build with the crate's
/// rust-version, an empty final image, a non-root user, `mclint` as the
/// entrypoint; the build context holds what it copies; the release builds
/// it for both architectures. (The musl build itself: scripts/build-musl,
/// a release checklist step.)
#[test]
fn the_dockerfile_builds_a_static_non_root_image_for_both_architectures() {
    let docker = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
    let toml = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let msrv = toml
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .unwrap()
        .trim_matches('"');
    let lines: Vec<&str> = docker
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    let froms: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert_eq!(froms.len(), 2, "{froms:?}");
    assert!(
        froms[0].starts_with(&format!("FROM rust:{msrv}-")),
        "the build stage uses Rust {msrv}: {}",
        froms[0]
    );
    assert_eq!(froms[1], "FROM scratch");
    let last = &lines[lines.iter().position(|l| *l == "FROM scratch").unwrap()..];
    let user = last
        .iter()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("the image sets a USER");
    let uid = user.split(':').next().unwrap();
    assert!(
        uid.parse::<u32>().is_ok_and(|u| u != 0),
        "USER {user} must be a numeric non-root id (scratch has no /etc/passwd)"
    );
    assert!(last.contains(&"ENTRYPOINT [\"mclint\"]"), "{last:?}");
    assert!(docker.contains("-unknown-linux-musl"), "a musl target");
    assert!(docker.contains("cargo build --release --locked --target"));
    // Every COPY source is in the build context (.dockerignore lets it in).
    let ignore = std::fs::read_to_string(repo().join(".dockerignore")).unwrap();
    for l in &lines {
        if let Some(rest) = l.strip_prefix("COPY ")
            && !rest.starts_with("--from")
        {
            let words: Vec<&str> = rest.split_whitespace().collect();
            for src in &words[..words.len() - 1] {
                assert!(
                    ignore
                        .lines()
                        .any(|i| i.trim_end_matches('/') == format!("!{src}")
                            || i.starts_with(&format!("!{src}/"))),
                    ".dockerignore keeps {src} out of the build context"
                );
                assert!(repo().join(src).exists(), "{src}");
            }
        }
    }
    let wf = std::fs::read_to_string(repo().join(".github/workflows/release.yml")).unwrap();
    for p in ["platform: linux/amd64", "platform: linux/arm64"] {
        assert!(wf.contains(p), "release.yml builds no {p}");
    }
}
