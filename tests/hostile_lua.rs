//! Hostile proxy configs (`tests/hostile-lua/*.lua`): each one, checked alone
//! and mounted from a ConfigMap into a proxy of a manifest, must end with a
//! `proxy-lua-error` finding at the line marked `--!`, exit code 1, a peak RSS
//! under 256 MB, and no file created or changed.
//!
//! Every run has a hang guard (killed after 20 s); the wall time and peak RSS
//! of each run are measured and printed, not asserted against a deadline.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

const HANG_GUARD: Duration = Duration::from_secs(20);
const MAX_RSS_KB: i64 = 256 * 1024;
/// The ConfigMap key the proxy container's `proxy_arg` points at.
const KEY: &str = "proxy.lua";

fn hostile_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile-lua")
}

/// How one guarded run ended.
struct Ended {
    /// Exit code, or None when killed by a signal.
    code: Option<i32>,
    signal: Option<i32>,
    stdout: String,
    stderr: String,
    max_rss_kb: i64,
    wall: Duration,
    hung: bool,
}

/// Runs mclint with `args` in `cwd` (also its HOME), reaping it with wait4 to
/// read its peak RSS; kills it after [`HANG_GUARD`].
// The child is reaped by wait4 (for its rusage), not by Child::wait.
#[allow(clippy::zombie_processes)]
fn run_guarded(args: &[OsString], cwd: &Path) -> Ended {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mclint"))
        .args(args)
        .current_dir(cwd)
        .env("HOME", cwd)
        .env("XDG_CONFIG_HOME", cwd)
        .env("XDG_CACHE_HOME", cwd)
        .env("TMPDIR", cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mclint");
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let mut hung = false;
    let (status, rusage) = loop {
        let mut status = 0;
        // SAFETY: plain out-parameters for wait4.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut ru) };
        if r == pid {
            break (status, ru);
        }
        assert!(r == 0, "wait4 failed");
        if !hung && started.elapsed() > HANG_GUARD {
            hung = true;
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let wall = started.elapsed();
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned();
    let exited = libc::WIFEXITED(status);
    Ended {
        code: exited.then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        stdout,
        stderr,
        max_rss_kb: rusage.ru_maxrss,
        wall,
        hung,
    }
}

/// Every file under `dir` with its size and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, SystemTime)> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir) {
        let e = e.unwrap();
        let m = e.metadata().unwrap();
        out.insert(e.path().to_path_buf(), (m.len(), m.modified().unwrap()));
    }
    out
}

/// The 1-based line holding the `--!` marker; `None` for `--! no line` (an
/// error Lua reports without a position, such as nesting too deep to parse).
fn marked_line(text: &str) -> Option<u32> {
    let lines: Vec<(u32, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("--!"))
        .map(|(i, l)| (i as u32 + 1, l))
        .collect();
    assert_eq!(lines.len(), 1, "exactly one `--!` marker");
    let (n, l) = lines[0];
    (!l.contains("--! no line")).then_some(n)
}

/// A proxy Deployment whose routelib config is `config`, mounted from a
/// ConfigMap key (the shape of the chart's proxy).
fn manifest(config: &str) -> String {
    let mut body = String::new();
    for l in config.lines() {
        body.push_str("    ");
        body.push_str(l);
        body.push('\n');
    }
    format!(
        r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: proxy-config
  namespace: cache
data:
  {KEY}: |-
{body}---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: proxy
  namespace: cache
spec:
  replicas: 1
  selector:
    matchLabels:
      app: proxy
  template:
    metadata:
      labels:
        app: proxy
    spec:
      containers:
        - name: proxy
          image: "memcached:1.6.38"
          command: ["memcached"]
          args: ["-o", "proxy_config=routelib,proxy_arg=/etc/memcached/{KEY}", "-p", "11311"]
          ports:
            - name: proxy
              containerPort: 11311
          resources:
            requests:
              memory: 128Mi
            limits:
              memory: 128Mi
          volumeMounts:
            - name: config
              mountPath: /etc/memcached
      volumes:
        - name: config
          configMap:
            name: proxy-config
"#
    )
}

struct Case {
    name: String,
    args: Vec<OsString>,
    line: Option<u32>,
    manifest: bool,
}

/// Checks one run; returns a description of what went wrong, if anything.
fn judge(case: &Case, e: &Ended, cwd: &Path) -> Result<(), String> {
    let what = format!(
        "{} ({})",
        case.name,
        if case.manifest {
            "in a ConfigMap"
        } else {
            "alone"
        }
    );
    if e.hung {
        return Err(format!("{what}: still running after {HANG_GUARD:?}"));
    }
    if e.code != Some(1) {
        return Err(format!(
            "{what}: exit {:?} signal {:?} (want 1)\nstderr: {}",
            e.code, e.signal, e.stderr
        ));
    }
    if e.max_rss_kb >= MAX_RSS_KB {
        return Err(format!("{what}: peak RSS {} KiB", e.max_rss_kb));
    }
    if std::fs::read_dir(cwd).unwrap().next().is_some() {
        return Err(format!("{what}: created files in its working directory"));
    }
    let json: serde_json::Value = serde_json::from_str(&e.stdout)
        .map_err(|err| format!("{what}: output is not JSON ({err}): {}", e.stdout))?;
    let findings = json["findings"].as_array().cloned().unwrap_or_default();
    let lua: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["rule"] == "proxy-lua-error")
        .collect();
    let at_line = |f: &&serde_json::Value| {
        let msg = f["message"].as_str().unwrap_or("");
        match (case.manifest, case.line) {
            (true, Some(n)) => msg.starts_with(&format!("{KEY} line {n}: ")),
            (true, None) => msg.starts_with(&format!("{KEY}: ")),
            (false, n) => f["line"].as_u64() == n.map(u64::from),
        }
    };
    if !lua.iter().any(at_line) {
        return Err(format!(
            "{what}: no proxy-lua-error finding at line {:?}: {}",
            case.line, e.stdout
        ));
    }
    for f in &lua {
        let msg = f["message"].as_str().unwrap_or("");
        if msg.contains(": 0x") || msg.len() > 1000 {
            return Err(format!("{what}: message not stable or too long: {msg}"));
        }
    }
    Ok(())
}

#[test]
fn every_hostile_config_ends_with_a_finding_at_its_line() {
    let dir = hostile_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "lua"))
        .collect();
    files.sort();
    assert!(files.len() >= 100, "only {} hostile configs", files.len());

    let manifests = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let line = marked_line(&text);
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        cases.push(Case {
            name: name.clone(),
            args: vec![
                "check".into(),
                "--format".into(),
                "json".into(),
                f.clone().into(),
            ],
            line,
            manifest: false,
        });
        let yaml = manifests.path().join(name.replace(".lua", ".yaml"));
        std::fs::write(&yaml, manifest(&text)).unwrap();
        cases.push(Case {
            name,
            args: vec![
                "check".into(),
                "--format".into(),
                "json".into(),
                yaml.into(),
            ],
            line,
            manifest: true,
        });
    }
    let before = (snapshot(&dir), snapshot(manifests.path()));

    // Two at a time: the machine running the tests is shared.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(case) = cases.get(i) else { break };
                    let cwd = tempfile::tempdir().unwrap();
                    let ended = run_guarded(&case.args, cwd.path());
                    let verdict = judge(case, &ended, cwd.path());
                    results
                        .lock()
                        .unwrap()
                        .push((i, ended.wall, ended.max_rss_kb, verdict));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|r| r.0);

    let slowest = results.iter().max_by_key(|r| r.1).unwrap();
    let biggest = results.iter().max_by_key(|r| r.2).unwrap();
    eprintln!(
        "{} runs; slowest {:?} ({}), largest peak RSS {} KiB ({})",
        results.len(),
        slowest.1,
        cases[slowest.0].name,
        biggest.2,
        cases[biggest.0].name
    );
    let failures: Vec<String> = results
        .into_iter()
        .filter_map(|(_, _, _, v)| v.err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} runs failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(
        before == (snapshot(&dir), snapshot(manifests.path())),
        "a hostile config changed files next to it"
    );
}
