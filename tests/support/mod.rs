//! Shared by integration tests: the real tools the project's scripts install,
//! free loopback ports, and processes that are always stopped.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The memcached 1.6.38 with the proxy that `scripts/setup-memcached` builds
/// (`MCLINT_MEMCACHED` overrides).
pub fn memcached_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("MCLINT_MEMCACHED") {
        return PathBuf::from(p);
    }
    let p = repo().join(".tools/memcached/bin/memcached");
    assert!(
        p.is_file(),
        "{} is missing: run scripts/setup (the README's test command does)",
        p.display()
    );
    p
}

/// The helm-compatible command (`scripts/helm`: real helm when on PATH, else the
/// project's Helm engine).
pub fn helm() -> Command {
    Command::new(repo().join("scripts/helm"))
}

/// Renders the bundled chart; panics with helm's stderr on failure.
pub fn helm_template(release: &str, namespace: &str, args: &[&str]) -> String {
    let chart = repo().join("charts/distributed-memcached");
    let out = helm()
        .args(["template", release])
        .arg(&chart)
        .args(["-n", namespace])
        .args(args)
        .output()
        .expect("run scripts/helm");
    assert!(
        out.status.success(),
        "helm template failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A port on 127.0.0.1 for a test server, never the same twice in one test
/// process, and outside the kernel's ephemeral range (32768-60999 on Linux), so
/// neither a client's outgoing connection nor another `bind(0)` can take it
/// between this call and the server's bind. Each test process starts at its own
/// offset (from its pid) in 20000-32767, and a port something already holds is
/// skipped.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 20000;
    const SPAN: u32 = 32768 - LOW;
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id().wrapping_mul(2654435761) % SPAN,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    for _ in 0..SPAN {
        let port = (LOW + NEXT.fetch_add(1, Ordering::SeqCst) % SPAN) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port on 127.0.0.1 in {LOW}-32767");
}

/// A child process killed when dropped (also when a test panics).
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub name: String,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops the process now (a pod going down).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is_root() -> bool {
    // SAFETY-free check: /proc/self/status Uid line.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// Starts memcached on 127.0.0.1:`port` with extra args, waiting until it accepts.
pub fn start_memcached(name: &str, port: u16, extra: &[String], workdir: &Path) -> Server {
    start_memcached_at(name, "127.0.0.1", port, extra, workdir)
}

/// Starts memcached 1.6.38's proxy with routelib and `config` on a free
/// loopback port; returns the server (its `port` is the proxy's).
pub fn start_proxy(name: &str, config: &Path, workdir: &Path) -> Server {
    start_memcached(
        name,
        free_port(),
        &[
            "-o".into(),
            format!("proxy_config=routelib,proxy_arg={}", config.display()),
        ],
        workdir,
    )
}

/// Starts memcached on `addr`:`port` (any loopback address) with extra args,
/// waiting until it accepts.
pub fn start_memcached_at(
    name: &str,
    addr: &str,
    port: u16,
    extra: &[String],
    workdir: &Path,
) -> Server {
    start_memcached_in(name, addr, port, extra, workdir, None)
}

/// [`start_memcached_at`], running in directory `cwd` (where a proxy
/// config's relative `dofile` paths open).
pub fn start_memcached_in(
    name: &str,
    addr: &str,
    port: u16,
    extra: &[String],
    workdir: &Path,
    cwd: Option<&Path>,
) -> Server {
    let log = workdir.join(format!("{name}.log"));
    let logf = std::fs::File::create(&log).unwrap();
    let mut cmd = Command::new(memcached_bin());
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    cmd.args(["-l", addr, "-p", &port.to_string(), "-U", "0"]);
    if is_root() {
        cmd.args(["-u", "root"]);
    }
    cmd.args(extra);
    cmd.stdin(Stdio::null())
        .stdout(logf.try_clone().unwrap())
        .stderr(logf);
    let child = cmd.spawn().expect("start memcached");
    let mut server = Server {
        child,
        port,
        name: name.to_string(),
        log,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if TcpStream::connect((addr, port)).is_ok() {
            // Something listens; make sure it is ours (a port taken by another
            // process makes memcached exit on bind).
            std::thread::sleep(Duration::from_millis(20));
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("memcached {name} exited with {status}: {}", server.log());
            }
            return server;
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("memcached {name} exited with {status}: {}", server.log());
        }
        assert!(
            Instant::now() < deadline,
            "memcached {name} did not listen on {port}: {}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A minimal text-protocol client.
pub struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    pub fn connect(port: u16) -> Client {
        Client::connect_to("127.0.0.1", port)
    }

    pub fn connect_to(addr: &str, port: u16) -> Client {
        let s = TcpStream::connect((addr, port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        // One write per command and no Nagle: otherwise every request waits out a
        // delayed ACK (40 ms) and the proofs take minutes.
        s.set_nodelay(true).unwrap();
        Client {
            reader: BufReader::new(s.try_clone().unwrap()),
            writer: s,
        }
    }

    pub fn line(&mut self) -> String {
        let mut l = String::new();
        self.reader.read_line(&mut l).unwrap();
        l.trim_end().to_string()
    }

    pub fn set(&mut self, key: &str, value: &[u8], ttl: u32) -> String {
        let mut cmd = format!("set {key} 0 {ttl} {}\r\n", value.len()).into_bytes();
        cmd.extend_from_slice(value);
        cmd.extend_from_slice(b"\r\n");
        self.writer.write_all(&cmd).unwrap();
        self.line()
    }

    /// `Some(value)` on a hit, `None` on a miss; panics on an error reply.
    pub fn get(&mut self, key: &str) -> Option<Vec<u8>> {
        self.writer
            .write_all(format!("get {key}\r\n").as_bytes())
            .unwrap();
        let head = self.line();
        if head == "END" {
            return None;
        }
        assert!(
            head.starts_with("VALUE "),
            "unexpected reply to get {key}: {head}"
        );
        let len: usize = head.rsplit(' ').next().unwrap().parse().unwrap();
        let mut buf = vec![0; len + 2];
        self.reader.read_exact(&mut buf).unwrap();
        buf.truncate(len);
        assert_eq!(self.line(), "END");
        Some(buf)
    }

    /// Sends a raw command and returns the first reply line.
    pub fn raw(&mut self, cmd: &str) -> String {
        self.writer
            .write_all(format!("{cmd}\r\n").as_bytes())
            .unwrap();
        self.line()
    }

    /// `stats` as (name, value) pairs.
    pub fn stats(&mut self) -> Vec<(String, String)> {
        self.stats_of("")
    }

    /// `stats <group>` (`proxy`, `slabs`, ...) as (name, value) pairs.
    pub fn stats_of(&mut self, group: &str) -> Vec<(String, String)> {
        let cmd = if group.is_empty() {
            "stats\r\n".to_string()
        } else {
            format!("stats {group}\r\n")
        };
        self.writer.write_all(cmd.as_bytes()).unwrap();
        let mut out = Vec::new();
        loop {
            let l = self.line();
            if l == "END" || l.is_empty() {
                break;
            }
            let mut parts = l.splitn(3, ' ');
            parts.next();
            if let (Some(k), Some(v)) = (parts.next(), parts.next()) {
                out.push((k.to_string(), v.to_string()));
            }
        }
        out
    }
}

/// Runs the built `mclint` binary.
pub fn mclint() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mclint"))
}

/// One finished `mclint` run: what snapshots compare.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Exit code, stdout and stderr in one text, for `insta::assert_snapshot!`.
    pub fn snapshot(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `cmd` with `stdin` as standard input (NO_COLOR unset unless the test set
/// it, so colour depends only on what the test asks); never hangs on a child
/// waiting for input.
pub fn run(cmd: &mut Command, stdin: &[u8]) -> Run {
    if !cmd.get_envs().any(|(k, _)| k == "NO_COLOR") {
        cmd.env_remove("NO_COLOR");
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mclint");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // The child may exit before reading everything (an input error): ignore EPIPE.
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait for mclint");
    writer.join().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A memcached command line without the flags the tests set themselves
/// (listen address, TCP and UDP ports): what a rendered container runs, to be
/// started on a loopback port by [`start_memcached`].
pub fn without_listen_flags(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        if matches!(args[i].as_str(), "-p" | "-l" | "-U") {
            i += 2;
            continue;
        }
        out.push(args[i].clone());
        i += 1;
    }
    out
}

/// The value after flag `name` in a command line (`-t 4`).
pub fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Whether the memcached on 127.0.0.1:`port` holds `key` (a `get` hit).
pub fn holds(port: u16, key: &str) -> bool {
    Client::connect(port).get(key).is_some()
}

/// A key as `lru_crawler metadump` writes it (URI-encoded), decoded.
pub fn decode_uri(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).expect("metadump keys are the UTF-8 keys stored")
}

/// Every key the memcached on 127.0.0.1:`port` holds.
pub fn held_keys(port: u16) -> Vec<String> {
    held_keys_at("127.0.0.1", port)
}

/// Every key the memcached on `addr`:`port` holds (`lru_crawler metadump all`).
pub fn held_keys_at(addr: &str, port: u16) -> Vec<String> {
    let mut c = Client::connect_to(addr, port);
    let mut line = c.raw("lru_crawler metadump all");
    let mut keys = Vec::new();
    while line != "END" {
        let k = line
            .strip_prefix("key=")
            .unwrap_or_else(|| panic!("unexpected metadump line from {port}: {line}"));
        keys.push(decode_uri(k.split(' ').next().unwrap()));
        line = c.line();
    }
    keys
}
