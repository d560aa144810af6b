//! Fidelity corpus: every `tests/routelib-corpus/*.lua` says what the real
//! 1.6.38 proxy does with it and what mclint says about it:
//!
//! ```lua
//! -- expect: loads | refuses | crashes-on-request
//! -- mclint: clean | error:<rule> | finding:<rule>
//! -- request: get some/key        (optional, repeatable; default: a set and a get;
//! --                               `set k 0 0 1\r\nx` sends the data after a CRLF)
//! -- answer: SERVER_ERROR         (optional: the first reply line of each request starts so)
//! -- placed: KEY 41001 41002      (optional, repeatable: after the requests exactly these
//! --                               backends hold KEY, and `mclint route --command set`
//! --                               sends KEY there, failover backends aside; none
//! --                               listed: nothing holds KEY)
//! ```
//!
//! The test starts real backends and the real proxy on each config (ports
//! 41001-41003 in the configs are rewritten to the test's backends), sends the
//! requests, and runs `mclint check` on the file as written. The proxy runs in
//! a directory holding a copy of `dofile-fragments/`, the files configs
//! `dofile` by relative paths (mclint opens them under the config's directory).

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{free_port, mclint, memcached_bin, repo, start_memcached};

#[derive(Debug, PartialEq)]
enum Seen {
    /// Running, with the first reply line of each request.
    Loads(Vec<String>),
    Refuses(String),
    Crashes(String),
    /// Running but a request got no answer.
    Silent(String),
}

struct Labels {
    expect: String,
    mclint: String,
    requests: Vec<String>,
    answers: Vec<String>,
    /// (key, backends in the config's port numbers, sorted).
    placed: Vec<(String, Vec<String>)>,
}

fn labels(text: &str, file: &str) -> Labels {
    let mut expect = None;
    let mut lint = None;
    let mut requests = Vec::new();
    let mut answers = Vec::new();
    let mut placed = Vec::new();
    for line in text.lines().take_while(|l| l.starts_with("--")) {
        let l = line.trim_start_matches("--").trim();
        if let Some(v) = l.strip_prefix("expect:") {
            expect = Some(v.trim().to_string());
        } else if let Some(v) = l.strip_prefix("mclint:") {
            lint = Some(v.trim().to_string());
        } else if let Some(v) = l.strip_prefix("request:") {
            // `\r\n` written in the label separates a storage command from its data.
            requests.push(v.trim().replace("\\r\\n", "\r\n"));
        } else if let Some(v) = l.strip_prefix("answer:") {
            answers.push(v.trim().to_string());
        } else if let Some(v) = l.strip_prefix("placed:") {
            let mut words = v.split_whitespace().map(str::to_string);
            let key = words
                .next()
                .unwrap_or_else(|| panic!("{file}: `-- placed:` needs a key"));
            let mut ports: Vec<String> = words.collect();
            ports.sort();
            placed.push((key, ports));
        }
    }
    let expect = expect.unwrap_or_else(|| panic!("{file}: no `-- expect:` header"));
    assert!(
        ["loads", "refuses", "crashes-on-request"].contains(&expect.as_str()),
        "{file}: bad expect label {expect}"
    );
    let mclint = lint.unwrap_or_else(|| panic!("{file}: no `-- mclint:` header"));
    if requests.is_empty() {
        requests = vec!["set corpus/key 0 0 1\r\nx".into(), "get corpus/key".into()];
    }
    Labels {
        expect,
        mclint,
        requests,
        answers,
        placed,
    }
}

/// The config's port numbers (41001...) of the backends holding `key`.
fn holders(ports: &[u16], key: &str) -> Vec<String> {
    ports
        .iter()
        .enumerate()
        .filter(|(_, p)| support::holds(**p, key))
        .map(|(i, _)| format!("4100{}", i + 1))
        .collect()
}

/// The config's port numbers of the backends `mclint route` sends a set of
/// `key` to (failover backends aside: they are asked only on a failure).
fn mclint_placed(config: &Path, key: &str) -> Result<Vec<String>, String> {
    let out = mclint()
        .args([
            "route",
            "--format",
            "json",
            "--command",
            "set",
            "--key",
            key,
            "--config",
        ])
        .arg(config)
        .output()
        .unwrap();
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "mclint route gave no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    // An error (a key on a `_down_` backend) still lists what is contacted:
    // nothing, or the copies other children send.
    if let Some(e) = line["error"].as_str()
        && !e.contains("marked down")
    {
        return Err(format!("mclint route: {e}"));
    }
    let mut ports: Vec<String> = line["backends"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["role"] != "failover")
        .map(|b| {
            let addr = b["backend"].as_str().unwrap_or_default();
            addr.rsplit(':').next().unwrap_or_default().to_string()
        })
        // Only the test's backends can hold keys (a config may name a dead port).
        .filter(|p| p.starts_with("4100"))
        .collect();
    ports.sort();
    Ok(ports)
}

/// The child's exit status if it exits within `wait`.
fn exited_within(
    child: &mut std::process::Child,
    wait: Duration,
) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + wait;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The proxy runs in `cwd`: a config's relative `dofile` paths open there.
fn run_real(name: &str, config: &Path, requests: &[String], dir: &Path, cwd: &Path) -> Seen {
    let port = free_port();
    let log = dir.join(format!("{name}.proxy.log"));
    let logf = std::fs::File::create(&log).unwrap();
    let mut child = Command::new(memcached_bin())
        .args([
            "-l",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "0",
            "-u",
            "root",
            "-o",
        ])
        .arg(format!(
            "proxy_config=routelib,proxy_arg={}",
            config.display()
        ))
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(logf.try_clone().unwrap())
        .stderr(logf)
        .spawn()
        .expect("start the proxy");
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(10);
    let stream = loop {
        if let Ok(Some(_)) = child.try_wait() {
            return Seen::Refuses(read_log());
        }
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Seen::Silent(format!("never listened: {}", read_log()));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    stream.set_nodelay(true).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut replies = Vec::new();
    let mut outcome = None;
    for req in requests {
        let sent = writer.write_all(format!("{req}\r\n").as_bytes());
        let mut line = String::new();
        let got = sent.is_ok() && reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false);
        if !got {
            // A crashed proxy closes the connection as it dies; give a loaded
            // machine time to reap it before calling the silence a hang.
            outcome = Some(match exited_within(&mut child, Duration::from_secs(3)) {
                Some(status) => Seen::Crashes(format!("{req}: {status}: {}", read_log())),
                None => Seen::Silent(format!("no answer to {req}")),
            });
            break;
        }
        replies.push(line.trim_end().to_string());
        // Drain a multi-line answer (VALUE ... END).
        if line.starts_with("VALUE") {
            let mut more = String::new();
            while reader.read_line(&mut more).map(|n| n > 0).unwrap_or(false)
                && more.trim_end() != "END"
            {
                more.clear();
            }
        }
    }
    if outcome.is_none()
        && let Some(status) = exited_within(&mut child, Duration::from_millis(200))
    {
        outcome = Some(Seen::Crashes(format!(
            "exited after the requests: {status}"
        )));
    }
    let _ = child.kill();
    let _ = child.wait();
    outcome.unwrap_or(Seen::Loads(replies))
}

#[test]
fn corpus_labels_hold_for_the_real_proxy_and_for_mclint() {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let _backends: Vec<_> = ports
        .iter()
        .enumerate()
        .map(|(i, &p)| start_memcached(&format!("backend{i}"), p, &[], dir.path()))
        .collect();
    let corpus = repo().join("tests/routelib-corpus");
    let mut files: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "lua"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 40,
        "the corpus has {} configs; it needs at least 40",
        files.len()
    );

    // Fragments the configs dofile, by paths relative to the proxy's working
    // directory (`dofile-fragments/...`), with the test's backend ports. The
    // directory above it holds none, so `..` reaches nothing.
    let cwd = dir.path().join("run");
    let frag_dir = cwd.join("dofile-fragments");
    std::fs::create_dir_all(&frag_dir).unwrap();
    for e in std::fs::read_dir(corpus.join("dofile-fragments")).unwrap() {
        let e = e.unwrap();
        let mut text = std::fs::read_to_string(e.path()).unwrap();
        for (i, p) in ports.iter().enumerate() {
            text = text.replace(&format!("4100{}", i + 1), &p.to_string());
        }
        std::fs::write(frag_dir.join(e.file_name()), text).unwrap();
    }

    let mut failures = Vec::new();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for file in &files {
        let name = file.file_stem().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(file).unwrap();
        let l = labels(&text, &name);
        *counts.entry(l.expect.clone()).or_default() += 1;

        // The real proxy, with the test's backend ports.
        let mut real = text.clone();
        for (i, p) in ports.iter().enumerate() {
            real = real.replace(&format!("4100{}", i + 1), &p.to_string());
        }
        let real_path = dir.path().join(format!("{name}.lua"));
        std::fs::write(&real_path, real).unwrap();
        for &p in &ports {
            assert_eq!(support::Client::connect(p).raw("flush_all"), "OK");
        }
        let seen = run_real(&name, &real_path, &l.requests, dir.path(), &cwd);
        for (key, want) in &l.placed {
            let real = holders(&ports, key);
            if real != *want {
                failures.push(format!(
                    "{name}: the real proxy left {key} on {real:?}, the label says {want:?}"
                ));
            }
            match mclint_placed(file, key) {
                Ok(got) if got == *want => {}
                Ok(got) => failures.push(format!(
                    "{name}: mclint route sends a set of {key} to {got:?}, the label (true of the real proxy) says {want:?}"
                )),
                Err(e) => failures.push(format!("{name}: {key}: {e}")),
            }
        }
        eprintln!(
            "{name}: {}",
            match &seen {
                Seen::Loads(r) => format!("loads {r:?}"),
                Seen::Refuses(s) => format!("refuses: {}", s.lines().last().unwrap_or("")),
                Seen::Crashes(s) => format!("crashes: {}", s.lines().next().unwrap_or("")),
                Seen::Silent(s) => format!("silent {s}"),
            }
        );
        let ok = matches!(
            (l.expect.as_str(), &seen),
            ("loads", Seen::Loads(_))
                | ("refuses", Seen::Refuses(_))
                | ("crashes-on-request", Seen::Crashes(_))
        );
        if !ok {
            failures.push(format!(
                "{name}: expected the proxy to {}, saw {seen:?}",
                l.expect
            ));
        }
        if let Seen::Loads(replies) = &seen {
            for (i, want) in l.answers.iter().enumerate() {
                if !replies.get(i).is_some_and(|r| r.starts_with(want.as_str())) {
                    failures.push(format!(
                        "{name}: request {} answered {:?}, expected `{want}...`",
                        i + 1,
                        replies.get(i)
                    ));
                }
            }
        }

        // mclint on the file as written.
        let out = mclint()
            .args(["check", "--format", "json"])
            .arg(file)
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{name}: mclint output is not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let findings: Vec<(String, String)> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["rule"].as_str().unwrap().to_string(),
                    f["severity"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let lint_ok = match l.mclint.split_once(':') {
            None if l.mclint == "clean" => findings.is_empty(),
            Some(("error", rule)) => findings.iter().any(|(r, s)| r == rule && s == "error"),
            Some(("finding", rule)) => findings.iter().any(|(r, _)| r == rule),
            _ => panic!("{name}: bad mclint label {}", l.mclint),
        };
        if !lint_ok {
            failures.push(format!(
                "{name}: expected mclint {}, got {findings:?}",
                l.mclint
            ));
        }
        // Whatever the proxy refuses or crashes on, mclint must call an error.
        if l.expect != "loads" && !findings.iter().any(|(_, s)| s == "error") {
            failures.push(format!(
                "{name}: the proxy {} but mclint reports no error",
                l.expect
            ));
        }
    }
    eprintln!("corpus: {} configs {counts:?}", files.len());
    assert!(
        failures.is_empty(),
        "{} corpus mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
