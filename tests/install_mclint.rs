//! `scripts/install-mclint`, the download-and-verify logic the Helm plugin's
//! install hook and the GitHub Action share, against a fake release served
//! over HTTP on 127.0.0.1 (a thread of this test, stopped at the end): the
//! tarball and `.sha256` the release workflow publishes, built here around
//! this test's own mclint binary. A good checksum installs; a mismatch, a
//! missing checksum or a binary that is not the release's version is refused
//! (nothing installed, nothing built); a missing asset falls back to
//! `cargo install --locked`, here a fake `cargo` first on PATH that records
//! its arguments (the decision is tested, not cargo).

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use support::repo;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A static file server on 127.0.0.1: GET /PATH serves ROOT/PATH, 404
/// otherwise; every request path is logged.
struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(root: PathBuf) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(vec![]));
        let (s, l) = (stop.clone(), log.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    serve(conn, &root, &l);
                }
            }
        });
        Server {
            port,
            stop,
            log,
            thread: Some(thread),
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}/releases/download", self.port)
    }

    fn requests(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(conn: TcpStream, root: &Path, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut first = String::new();
    if reader.read_line(&mut first).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
    }
    let path = first.split(' ').nth(1).unwrap_or("/").to_string();
    log.lock().unwrap().push(path.clone());
    let file = root.join(path.trim_start_matches('/'));
    let mut conn = conn;
    let body = if path.contains("..") {
        None
    } else {
        std::fs::read(&file).ok()
    };
    match body {
        Some(b) => {
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                b.len()
            );
            let _ = conn.write_all(&b);
        }
        None => {
            let _ = write!(
                conn,
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    }
}

fn host_target() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "x86_64-unknown-linux-gnu",
        "aarch64" => "aarch64-unknown-linux-gnu",
        a => panic!("no release target for {a}"),
    }
}

fn sh(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A release directory as GitHub serves it: releases/download/vX/NAME, with
/// `binary` as the archive's mclint; the `.sha256` says `sum` (None: the real
/// one; Some(""): no checksum file).
fn release(root: &Path, binary: &Path, sum: Option<&str>) {
    let _ = std::fs::remove_dir_all(root);
    let target = host_target();
    let name = format!("mclint-{VERSION}-{target}");
    let work = root.join("work");
    std::fs::create_dir_all(work.join(&name)).unwrap();
    std::fs::copy(binary, work.join(&name).join("mclint")).unwrap();
    std::fs::copy(repo().join("README.md"), work.join(&name).join("README.md")).unwrap();
    let dir = root.join(format!("releases/download/v{VERSION}"));
    std::fs::create_dir_all(&dir).unwrap();
    let tarball = dir.join(format!("{name}.tar.gz"));
    sh(Command::new("tar")
        .arg("-C")
        .arg(&work)
        // gzip -1: the debug binary is large, and a real gzip all the same.
        .args(["-I", "gzip -1", "-cf"])
        .arg(&tarball)
        .arg(&name));
    let real = sh(Command::new("sha256sum").arg(&tarball));
    let real = real.split(' ').next().unwrap();
    match sum {
        Some("") => {}
        s => std::fs::write(
            dir.join(format!("{name}.tar.gz.sha256")),
            format!("{}  {name}.tar.gz\n", s.unwrap_or(real)),
        )
        .unwrap(),
    }
}

/// A `cargo` that logs its arguments and, for `cargo install ... --root
/// ROOT`, puts this test's mclint at ROOT/bin/mclint.
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
mkdir -p "$root/bin"
cp '{mclint}' "$root/bin/mclint"
"#,
        log = log.display(),
        mclint = env!("CARGO_BIN_EXE_mclint")
    );
    std::fs::write(bin.join("cargo"), script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("cargo"), std::fs::Permissions::from_mode(0o755)).unwrap();
    (bin, log)
}

struct Out {
    code: Option<i32>,
    err: String,
}

fn install(tmp: &Path, server: &Server, dest: &Path, extra: &[&str]) -> Out {
    let (fake_bin, _) = fake_cargo(tmp);
    let path = format!(
        "{}:{}",
        fake_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = Command::new(repo().join("scripts/install-mclint"))
        .args(["--version", VERSION, "--dest"])
        .arg(dest)
        .arg("--source")
        .arg(repo())
        .args(extra)
        .env("PATH", path)
        .env("MCLINT_RELEASE_BASE_URL", server.base())
        .env_remove("MCLINT_DOWNLOAD")
        .output()
        .unwrap();
    Out {
        code: o.status.code(),
        err: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn cargo_calls(tmp: &Path) -> String {
    std::fs::read_to_string(tmp.join("cargo.log")).unwrap_or_default()
}

#[test]
fn downloads_verifies_refuses_and_falls_back() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let root = tmp.join("www");
    std::fs::create_dir_all(&root).unwrap();
    let server = Server::start(root.clone());
    let mclint = PathBuf::from(env!("CARGO_BIN_EXE_mclint"));
    let target = host_target();
    let asset = format!("/releases/download/v{VERSION}/mclint-{VERSION}-{target}.tar.gz");

    // A good release: downloaded, checked, installed; cargo never runs.
    release(&root, &mclint, None);
    let dest = tmp.join("good/bin");
    let r = install(tmp, &server, &dest, &[]);
    assert_eq!(r.code, Some(0), "{}", r.err);
    assert_eq!(
        server.requests(),
        [asset.clone(), format!("{asset}.sha256")]
    );
    assert_eq!(cargo_calls(tmp), "", "{}", r.err);
    assert_eq!(
        sh(Command::new(dest.join("mclint")).arg("--version")).trim(),
        format!("mclint {VERSION}")
    );
    assert!(
        r.err
            .contains(&format!("installed {}", dest.join("mclint").display()))
    );

    // A checksum that does not match: refused, nothing installed, no build.
    release(&root, &mclint, Some(&"0".repeat(64)));
    let dest = tmp.join("mismatch/bin");
    let r = install(tmp, &server, &dest, &[]);
    assert_eq!(r.code, Some(1), "{}", r.err);
    assert!(r.err.contains("checksum mismatch"), "{}", r.err);
    assert!(r.err.contains("installation refused"), "{}", r.err);
    assert!(!dest.join("mclint").exists());
    assert_eq!(cargo_calls(tmp), "");
    server.requests();

    // No checksum file, or one that holds no SHA-256: refused too.
    for (sum, why) in [("", "no checksum file"), ("not-a-sum", "holds no SHA-256")] {
        release(&root, &mclint, Some(sum));
        let r = install(tmp, &server, &tmp.join("nosum/bin"), &[]);
        assert_eq!(r.code, Some(1), "{}", r.err);
        assert!(r.err.contains(why), "{why}: {}", r.err);
        assert_eq!(cargo_calls(tmp), "");
    }

    // An archive with the right checksum whose binary is not this version
    // (a swapped or stale release): refused.
    let fake = tmp.join("fake-mclint");
    std::fs::write(&fake, "#!/bin/sh\necho 'mclint 9.9.9\x1b[2J'\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    release(&root, &fake, None);
    let r = install(tmp, &server, &tmp.join("stale/bin"), &[]);
    assert_eq!(r.code, Some(1), "{}", r.err);
    assert!(
        r.err.contains("says 'mclint 9.9.9[2J', not 'mclint"),
        "{}",
        r.err
    );
    assert!(!r.err.contains('\x1b'), "control characters printed");
    assert_eq!(cargo_calls(tmp), "");

    // No asset for this version: built with cargo install --locked.
    std::fs::remove_dir_all(&root).unwrap();
    std::fs::create_dir_all(&root).unwrap();
    server.requests();
    let dest = tmp.join("built/bin");
    let r = install(tmp, &server, &dest, &[]);
    assert_eq!(r.code, Some(0), "{}", r.err);
    assert_eq!(server.requests(), std::slice::from_ref(&asset));
    assert!(r.err.contains("no release download"), "{}", r.err);
    let calls = cargo_calls(tmp);
    assert_eq!(calls.lines().count(), 1, "{calls}");
    assert!(
        calls.starts_with(&format!(
            "install --quiet --locked --path {} --root ",
            repo().display()
        )),
        "{calls}"
    );
    assert!(dest.join("mclint").is_file());
    std::fs::remove_file(tmp.join("cargo.log")).unwrap();

    // Downloads disabled: straight to the build, no request.
    let o = Command::new(repo().join("scripts/install-mclint"))
        .args(["--version", VERSION, "--dest"])
        .arg(tmp.join("never/bin"))
        .env(
            "PATH",
            format!(
                "{}:{}",
                tmp.join("fake-bin").display(),
                std::env::var("PATH").unwrap()
            ),
        )
        .env("MCLINT_RELEASE_BASE_URL", server.base())
        .env("MCLINT_DOWNLOAD", "never")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "no --source to build from: {err}");
    assert!(err.contains("no --source to build from"), "{err}");
    assert!(server.requests().is_empty());
}

#[test]
fn hostile_arguments_are_refused_before_any_request() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path().to_path_buf());
    for (args, want) in [
        (vec!["--version", "../../x", "--dest", "d"], "is not X.Y.Z"),
        (
            vec!["--version", "1.2.3/../x", "--dest", "d"],
            "is not X.Y.Z",
        ),
        (
            vec!["--version", "1.2.3", "--dest", "d", "--repo", "a/b/../c"],
            "is not OWNER/NAME",
        ),
        (vec!["--version", "1.2.3"], "--dest is required"),
        (vec!["--version"], "--version needs a value"),
        (
            vec!["--dest", "d", "--version", "1.2.3", "--frob"],
            "unknown argument: --frob",
        ),
    ] {
        let o = Command::new(repo().join("scripts/install-mclint"))
            .args(&args)
            .current_dir(tmp.path())
            .env("MCLINT_RELEASE_BASE_URL", server.base())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    assert!(server.requests().is_empty());
}

/// The Helm plugin's install hook goes through the same script: it asks for
/// plugin.yaml's version and installs into $HELM_PLUGIN_DIR/bin.
#[test]
fn the_plugin_hook_downloads_through_install_mclint() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let root = tmp.join("www");
    let server = Server::start(root.clone());
    release(&root, Path::new(env!("CARGO_BIN_EXE_mclint")), None);
    let dir = tmp.join("plugins/mclint");
    std::fs::create_dir_all(dir.join("scripts")).unwrap();
    std::fs::copy(repo().join("plugin.yaml"), dir.join("plugin.yaml")).unwrap();
    for s in ["helm-plugin-install", "install-mclint"] {
        std::fs::copy(repo().join("scripts").join(s), dir.join("scripts").join(s)).unwrap();
    }
    let o = Command::new(dir.join("scripts/helm-plugin-install"))
        .env("HELM_PLUGIN_DIR", &dir)
        .env("MCLINT_RELEASE_BASE_URL", server.base())
        .env_remove("MCLINT_PLUGIN_DOWNLOAD")
        .env_remove("MCLINT_DOWNLOAD")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("mclint plugin: downloading http://127.0.0.1:"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 2);
    assert_eq!(
        sh(Command::new(dir.join("bin/mclint")).arg("--version")).trim(),
        format!("mclint {VERSION}")
    );
}
