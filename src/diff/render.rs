//! `mclint diff --chart DIR --base REF`: renders the chart as it is at a git
//! ref (extracted with `git archive`, read-only: no worktree, index or ref
//! changes) and as it is in the working tree, with the user's Helm.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

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
}

/// `(old, new)` rendered YAML streams.
pub fn render_base_and_worktree(
    chart: &Path,
    base: &str,
    opts: &RenderOptions,
) -> anyhow::Result<(String, String)> {
    if !chart.join("Chart.yaml").is_file() {
        bail!(
            "{}: no Chart.yaml here; --chart takes a Helm chart directory",
            chart.display()
        );
    }
    let chart = chart
        .canonicalize()
        .with_context(|| format!("{}: cannot resolve the path", chart.display()))?;
    let top = git(&chart, &["rev-parse", "--show-toplevel"]).with_context(|| {
        format!(
            "{}: not inside a git repository (needed for --base)",
            chart.display()
        )
    })?;
    let top = PathBuf::from(top.trim())
        .canonicalize()
        .context("resolving the git top-level directory")?;
    let rel = chart
        .strip_prefix(&top)
        .with_context(|| {
            format!(
                "{} is not below the repository {}",
                chart.display(),
                top.display()
            )
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
        bail!(
            "--base {base}: no such commit, branch or tag in the repository {}",
            top.display()
        );
    }
    for v in opts.values {
        if !v.is_file() {
            bail!(
                "--values {}: values file not found (it is read for both renderings)",
                v.display()
            );
        }
    }

    let tmp = tempfile::Builder::new()
        .prefix("mclint-diff-")
        .tempdir()
        .context("creating a temporary directory")?;
    extract(&top, base, &rel, tmp.path())?;
    let old_chart = tmp.path().join(&rel);
    if !old_chart.join("Chart.yaml").is_file() {
        bail!(
            "--base {base}: {} has no Chart.yaml at that commit",
            rel.display()
        );
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
                std::fs::write(&p, bytes).with_context(|| format!("writing {}", p.display()))?;
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
    let old = helm_template(&old_chart, &old_values, opts).map_err(|e| {
        let e = e.rename(&renames);
        anyhow::anyhow!(
            "rendering the old side, {} at --base {base}{}: {e}",
            shown,
            values_note(&old_names)
        )
    })?;
    let new = helm_template(&chart, opts.values, opts).map_err(|e| {
        anyhow::anyhow!(
            "rendering the new side, {} in the working tree{}: {e}",
            shown,
            values_note(&new_names)
        )
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
pub struct HelmError(String);

impl HelmError {
    /// Replaces temporary paths in the message with what they stand for.
    fn rename(self, renames: &[(String, String)]) -> Self {
        let mut msg = self.0;
        for (from, to) in renames {
            msg = msg.replace(from.as_str(), to);
        }
        HelmError(msg)
    }
}

impl std::fmt::Display for HelmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
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
fn extract(top: &Path, base: &str, rel: &Path, dest: &Path) -> anyhow::Result<()> {
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
        .context("running git archive")?;
    let stdout = archive.stdout.take().context("git archive has no output")?;
    let tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(dest)
        .stdin(stdout)
        .stderr(Stdio::piped())
        .output()
        .context("running tar (needed to unpack `git archive`)")?;
    let archived = archive.wait_with_output().context("running git archive")?;
    if !archived.status.success() {
        bail!(
            "--base {base}: git archive of {spec} failed: {}",
            String::from_utf8_lossy(&archived.stderr).trim()
        );
    }
    if !tar.status.success() {
        bail!(
            "unpacking git archive failed: {}",
            String::from_utf8_lossy(&tar.stderr).trim()
        );
    }
    Ok(())
}

fn git_bytes(dir: &Path, args: &[&str]) -> anyhow::Result<Vec<u8>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("running git (is it installed?)")?;
    if !out.status.success() {
        bail!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
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
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| {
        HelmError(if e.kind() == std::io::ErrorKind::NotFound {
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
    if !out.status.success() {
        let status = match out.status.code() {
            Some(c) => format!("exit status {c}"),
            None => "killed by a signal".to_string(),
        };
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stderr = stderr.trim();
        return Err(HelmError(if stderr.is_empty() {
            format!("{helm} template failed ({status}) and printed no error")
        } else {
            format!("{helm} template failed ({status}): {stderr}")
        }));
    }
    String::from_utf8(out.stdout).map_err(|_| {
        HelmError(format!(
            "{helm} template printed something that is not UTF-8"
        ))
    })
}
