//! `mclint diff --chart DIR --base REF`: renders the chart as it is at a git
//! ref (extracted with `git archive`, read-only: no worktree, index or ref
//! changes) and as it is in the working tree, with the user's Helm.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

/// What the two renderings need besides the chart.
pub struct RenderOptions<'a> {
    pub helm: PathBuf,
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
    git(
        &top,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{base}^{{commit}}"),
        ],
    )
    .with_context(|| format!("--base {base}: no such commit in {}", top.display()))?;

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
                old_values.push(p);
            }
            None => old_values.push(v.clone()),
        }
    }
    for v in opts.values {
        if !v.is_file() {
            bail!("{}: values file not found", v.display());
        }
    }
    let old = helm_template(&old_chart, &old_values, opts)
        .with_context(|| format!("rendering {} at {base}", rel.display()))?;
    let new = helm_template(&chart, opts.values, opts)
        .with_context(|| format!("rendering {} in the working tree", chart.display()))?;
    Ok((old, new))
}

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

/// `helm template RELEASE CHART -n NS -f ... --set ...`; helm's own error on failure.
pub fn helm_template(
    chart: &Path,
    values: &[PathBuf],
    opts: &RenderOptions,
) -> anyhow::Result<String> {
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
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            anyhow::anyhow!(
                "{}: not found; install Helm, or pass --helm PATH or set HELM_BIN",
                opts.helm.display()
            )
        } else {
            anyhow::anyhow!("running {}: {e}", opts.helm.display())
        }
    })?;
    if !out.status.success() {
        bail!(
            "helm template failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8(out.stdout).context("helm template printed something that is not UTF-8")
}
