//! `mclint diff --chart DIR --base REF`: renders the chart as it is at a git
//! ref (extracted with `git archive`, read-only: no worktree, index or ref
//! changes) and as it is in the working tree, with the user's Helm.

use std::io::Read as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use super::DiffError;

/// Where the Helm command came from, for the message when it cannot run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelmFrom {
    /// `--helm PATH`.
    Flag,
    /// The `HELM_BIN` environment variable (as Helm sets it for plugins).
    Env,
    /// `helm`, looked up on PATH.
    Path,
}

/// What the two renderings need besides the chart.
pub struct RenderOptions<'a> {
    pub helm: PathBuf,
    pub helm_from: HelmFrom,
    pub release: &'a str,
    pub namespace: &'a str,
    pub values: &'a [PathBuf],
    pub set: &'a [String],
    pub set_string: &'a [String],
    /// How long one `helm template` may run.
    pub timeout: Duration,
}

/// The most `helm template` may print (a rendering this large is not a chart).
const MAX_HELM_OUTPUT: u64 = 256 * 1024 * 1024;

/// SIGINT or SIGTERM arrived while rendering: the renders were stopped and the
/// temporary directory removed; the caller exits with 128 + the signal.
#[derive(Debug, thiserror::Error)]
#[error("interrupted by {}: stopped helm and removed the temporary files", signal_name(*.0))]
pub struct Interrupted(pub i32);

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}

/// The signal received while [`SignalGuard`] was held (0: none).
static RECEIVED: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    RECEIVED.store(sig, Ordering::SeqCst);
}

/// While held, SIGINT and SIGTERM are recorded instead of ending the process,
/// so the render loop can stop helm and the temporary directory can be
/// removed; dropping it restores the previous handlers.
struct SignalGuard {
    previous: [(libc::c_int, libc::sighandler_t); 2],
}

impl SignalGuard {
    fn install() -> SignalGuard {
        RECEIVED.store(0, Ordering::SeqCst);
        let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        let mut previous = [
            (libc::SIGINT, libc::SIG_DFL),
            (libc::SIGTERM, libc::SIG_DFL),
        ];
        for (sig, prev) in &mut previous {
            // SAFETY: installs a handler that only stores to an atomic.
            *prev = unsafe { libc::signal(*sig, handler) };
        }
        SignalGuard { previous }
    }

    fn check() -> Result<(), Interrupted> {
        match RECEIVED.load(Ordering::SeqCst) {
            0 => Ok(()),
            sig => Err(Interrupted(sig)),
        }
    }
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        for (sig, prev) in self.previous {
            // SAFETY: puts back the handler that was there before.
            unsafe {
                libc::signal(sig, prev);
            }
        }
    }
}

/// `(old, new)` rendered YAML streams.
pub fn render_base_and_worktree(
    chart: &Path,
    base: &str,
    opts: &RenderOptions,
) -> Result<(String, String), DiffError> {
    if !chart.join("Chart.yaml").is_file() {
        return Err(DiffError::Request(format!(
            "{}: no Chart.yaml here; --chart takes a Helm chart directory",
            chart.display()
        )));
    }
    let chart = chart.canonicalize().map_err(|source| DiffError::Io {
        what: format!("{}: cannot resolve the path", chart.display()),
        source,
    })?;
    let top = git(&chart, &["rev-parse", "--show-toplevel"]).map_err(|e| {
        e.within(format!(
            "{}: not inside a git repository (needed for --base)",
            chart.display()
        ))
    })?;
    let top = PathBuf::from(top.trim())
        .canonicalize()
        .map_err(|source| DiffError::Io {
            what: "resolving the git top-level directory".into(),
            source,
        })?;
    let rel = chart
        .strip_prefix(&top)
        .map_err(|_| {
            DiffError::Request(format!(
                "{} is not below the repository {}",
                chart.display(),
                top.display()
            ))
        })?
        .to_path_buf();
    if git(
        &top,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{base}^{{commit}}"),
        ],
    )
    .is_err()
    {
        return Err(DiffError::Request(format!(
            "--base {base}: no such commit, branch or tag in the repository {}",
            top.display()
        )));
    }
    for v in opts.values {
        if !v.is_file() {
            return Err(DiffError::Request(format!(
                "--values {}: values file not found (it is read for both renderings)",
                v.display()
            )));
        }
    }

    // Declared before the temporary directory, so dropped after it: a signal
    // during the cleanup still cannot leave it behind.
    let _signals = SignalGuard::install();
    let tmp = tempfile::Builder::new()
        .prefix("mclint-diff-")
        .tempdir()
        .map_err(|source| DiffError::Io {
            what: "creating a temporary directory".into(),
            source,
        })?;
    extract(&top, base, &rel, tmp.path())?;
    SignalGuard::check()?;
    let old_chart = tmp.path().join(&rel);
    if !old_chart.join("Chart.yaml").is_file() {
        return Err(DiffError::Request(format!(
            "--base {base}: {} has no Chart.yaml at that commit",
            rel.display()
        )));
    }

    // A values file tracked in the repository is read as it was at the base,
    // so a change to it shows up in the diff; other values files apply to both.
    let mut old_values = Vec::new();
    let mut old_names = Vec::new();
    // Temporary copies of values files at the base, and what to call them in
    // Helm's messages.
    let mut renames = Vec::new();
    for (i, v) in opts.values.iter().enumerate() {
        let at_base = v
            .canonicalize()
            .ok()
            .and_then(|abs| abs.strip_prefix(&top).ok().map(Path::to_path_buf))
            .and_then(|r| git_bytes(&top, &["show", &format!("{base}:{}", slash_path(&r))]).ok());
        match at_base {
            Some(bytes) => {
                let p = tmp.path().join(format!("values-{i}.yaml"));
                std::fs::write(&p, bytes).map_err(|source| DiffError::Io {
                    what: format!("writing {}", p.display()),
                    source,
                })?;
                let name = format!("{} as at {base}", v.display());
                renames.push((p.display().to_string(), name.clone()));
                old_values.push(p);
                old_names.push(name);
            }
            None => {
                old_values.push(v.clone());
                old_names.push(format!(
                    "{} (not in git at {base}: as it is now)",
                    v.display()
                ));
            }
        }
    }
    let new_names: Vec<String> = opts
        .values
        .iter()
        .map(|v| v.display().to_string())
        .collect();
    // The chart as named in messages (`.` when it is the repository's top).
    let shown = if rel.as_os_str().is_empty() {
        ".".to_string()
    } else {
        rel.display().to_string()
    };
    // Helm names the chart by its path: the extracted copy is the chart at the base.
    renames.push((
        old_chart.display().to_string(),
        format!("{shown} as at {base}"),
    ));
    SignalGuard::check()?;
    let old = helm_template(&old_chart, &old_values, opts).map_err(|e| {
        if let Some(i) = e.interrupted {
            return DiffError::Interrupted(i);
        }
        let e = e.rename(&renames);
        DiffError::Tool(format!(
            "rendering the old side, {} at --base {base}{}: {e}",
            shown,
            values_note(&old_names)
        ))
    })?;
    let new = helm_template(&chart, opts.values, opts).map_err(|e| {
        if let Some(i) = e.interrupted {
            return DiffError::Interrupted(i);
        }
        DiffError::Tool(format!(
            "rendering the new side, {} in the working tree{}: {e}",
            shown,
            values_note(&new_names)
        ))
    })?;
    Ok((old, new))
}

/// ` with values A, B`, or ` (no values files)`.
fn values_note(names: &[String]) -> String {
    if names.is_empty() {
        " (no values files)".to_string()
    } else {
        format!(" with values {}", names.join(", "))
    }
}

/// Why `helm template` gave no rendering.
#[derive(Debug)]
pub struct HelmError {
    message: String,
    /// Stopped by SIGINT or SIGTERM, not by a failure of its own.
    interrupted: Option<Interrupted>,
}

impl HelmError {
    fn msg(message: String) -> HelmError {
        HelmError {
            message,
            interrupted: None,
        }
    }

    /// Replaces temporary paths in the message with what they stand for.
    fn rename(self, renames: &[(String, String)]) -> Self {
        let mut msg = self.message;
        for (from, to) in renames {
            msg = msg.replace(from.as_str(), to);
        }
        HelmError {
            message: msg,
            interrupted: self.interrupted,
        }
    }
}

impl std::fmt::Display for HelmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HelmError {}

fn slash_path(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// `git archive REF -- REL | tar -x -C DEST`.
fn extract(top: &Path, base: &str, rel: &Path, dest: &Path) -> Result<(), DiffError> {
    let spec = if rel.as_os_str().is_empty() {
        ".".to_string()
    } else {
        slash_path(rel)
    };
    let mut archive = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(["archive", "--format=tar", base, "--", &spec])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| DiffError::Io {
            what: "running git archive".into(),
            source,
        })?;
    let stdout = archive
        .stdout
        .take()
        .ok_or_else(|| DiffError::Tool("git archive has no output".into()))?;
    let tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(dest)
        .stdin(stdout)
        .stderr(Stdio::piped())
        .output()
        .map_err(|source| DiffError::Io {
            what: "running tar (needed to unpack `git archive`)".into(),
            source,
        })?;
    let archived = archive.wait_with_output().map_err(|source| DiffError::Io {
        what: "running git archive".into(),
        source,
    })?;
    if !archived.status.success() {
        return Err(DiffError::Tool(format!(
            "--base {base}: git archive of {spec} failed: {}",
            String::from_utf8_lossy(&archived.stderr).trim()
        )));
    }
    if !tar.status.success() {
        return Err(DiffError::Tool(format!(
            "unpacking git archive failed: {}",
            String::from_utf8_lossy(&tar.stderr).trim()
        )));
    }
    Ok(())
}

fn git_bytes(dir: &Path, args: &[&str]) -> Result<Vec<u8>, DiffError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| DiffError::Io {
            what: "running git (is it installed?)".into(),
            source,
        })?;
    if !out.status.success() {
        return Err(DiffError::Tool(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}

fn git(dir: &Path, args: &[&str]) -> Result<String, DiffError> {
    Ok(String::from_utf8_lossy(&git_bytes(dir, args)?).into_owned())
}

/// `helm template RELEASE CHART -n NS -f ... --set ...`; helm's own error on
/// failure (exit status and standard error), or why Helm did not start.
pub fn helm_template(
    chart: &Path,
    values: &[PathBuf],
    opts: &RenderOptions,
) -> Result<String, HelmError> {
    let mut cmd = Command::new(&opts.helm);
    cmd.arg("template")
        .arg(opts.release)
        .arg(chart)
        .args(["--namespace", opts.namespace]);
    for v in values {
        cmd.arg("--values").arg(v);
    }
    for s in opts.set {
        cmd.arg("--set").arg(s);
    }
    for s in opts.set_string {
        cmd.arg("--set-string").arg(s);
    }
    let helm = opts.helm.display();
    // Its own process group, so a timeout or a signal stops everything it
    // started (a plugin, a post-renderer), not just helm itself.
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| {
            HelmError::msg(if e.kind() == std::io::ErrorKind::NotFound {
                match opts.helm_from {
                    HelmFrom::Flag => format!("--helm {helm}: no such command"),
                    HelmFrom::Env => format!("HELM_BIN={helm}: no such command"),
                    HelmFrom::Path => format!(
                        "`{helm}` is not on PATH; install Helm, or pass --helm PATH or set HELM_BIN"
                    ),
                }
            } else {
                format!("cannot run {helm}: {e}")
            })
        })?;
    let out = wait_bounded(child, opts.timeout).map_err(|stop| match stop {
        Stop::Interrupted(i) => HelmError {
            message: i.to_string(),
            interrupted: Some(i),
        },
        Stop::TimedOut => HelmError::msg(format!(
            "{helm} template did not finish within {} s (--helm-timeout); it was killed with every process it started",
            opts.timeout.as_secs()
        )),
        Stop::TooLarge => HelmError::msg(format!(
            "{helm} template printed more than {} MiB; it was killed",
            MAX_HELM_OUTPUT / (1024 * 1024)
        )),
        Stop::Io(e) => HelmError::msg(format!("waiting for {helm}: {e}")),
    })?;
    if !out.status.success() {
        let status = match out.status.code() {
            Some(c) => format!("exit status {c}"),
            None => "killed by a signal".to_string(),
        };
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stderr = stderr.trim();
        return Err(HelmError::msg(if stderr.is_empty() {
            format!("{helm} template failed ({status}) and printed no error")
        } else {
            format!("{helm} template failed ({status}): {stderr}")
        }));
    }
    String::from_utf8(out.stdout).map_err(|_| {
        HelmError::msg(format!(
            "{helm} template printed something that is not UTF-8"
        ))
    })
}

/// Why a helm run was stopped.
enum Stop {
    Interrupted(Interrupted),
    TimedOut,
    TooLarge,
    Io(std::io::Error),
}

/// Kills the child's whole process group and reaps the child.
fn kill_group(child: &mut Child) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: signals the process group the child leads (it was spawned
        // with process_group(0), so its id is the group's id).
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A pipe read to its end on a thread, keeping at most `limit` bytes; `over`
/// is set as soon as there is more.
struct Drain {
    thread: std::thread::JoinHandle<Vec<u8>>,
    over: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

fn drain(pipe: Option<impl std::io::Read + Send + 'static>, limit: u64) -> Drain {
    let over = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = over.clone();
    let thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let Some(pipe) = pipe else {
            return buf;
        };
        let mut taken = pipe.take(limit + 1);
        let _ = taken.read_to_end(&mut buf);
        if buf.len() as u64 > limit {
            flag.store(true, Ordering::SeqCst);
            buf.truncate(limit as usize);
        }
        buf
    });
    Drain { thread, over }
}

/// Waits for the child, polling, until it exits, `timeout` passes, SIGINT or
/// SIGTERM arrives, or it prints too much; in all but the first case its
/// process group is killed.
fn wait_bounded(mut child: Child, timeout: Duration) -> Result<std::process::Output, Stop> {
    let stdout = drain(child.stdout.take(), MAX_HELM_OUTPUT);
    let stderr = drain(child.stderr.take(), 1024 * 1024);
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => {
                kill_group(&mut child);
                return Err(Stop::Io(e));
            }
        }
        if let Err(i) = SignalGuard::check() {
            kill_group(&mut child);
            return Err(Stop::Interrupted(i));
        }
        if start.elapsed() >= timeout {
            kill_group(&mut child);
            return Err(Stop::TimedOut);
        }
        if stdout.over.load(Ordering::SeqCst) {
            kill_group(&mut child);
            return Err(Stop::TooLarge);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Whatever it left running in its group (a helper still holding the
    // pipes) is stopped too, so the readers end.
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: as in kill_group; the group may already be gone (ESRCH).
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let over = stdout.over.clone();
    let out = stdout.thread.join().unwrap_or_default();
    let err = stderr.thread.join().unwrap_or_default();
    if over.load(Ordering::SeqCst) {
        return Err(Stop::TooLarge);
    }
    Ok(std::process::Output {
        status,
        stdout: out,
        stderr: err,
    })
}
