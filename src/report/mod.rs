//! One writer per output format. Only this module and `main.rs` print.

mod github;
mod json;
mod junit;
pub mod route;
mod sarif;
mod text;

use std::io::{self, Write};

use crate::check::Report;
use crate::finding::Finding;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people: grouped by template, coloured on a terminal.
    Text,
    /// A stable JSON document (`{"findings": [...], "summary": {...}}`).
    Json,
    /// SARIF 2.1.0, for code-scanning UIs (GitHub code scanning and others).
    Sarif,
    /// JUnit XML: a testsuite per input file, a testcase per object.
    Junit,
    /// GitHub Actions workflow commands (`::error file=...,line=...::...`).
    Github,
}

/// How to write a report: colour for `text`; where the chart lives for the file
/// paths of `sarif` and `github`.
#[derive(Debug, Clone, Default)]
pub struct TextStyle {
    pub color: bool,
    /// The chart's directory relative to the repository root (`--chart-dir`).
    pub chart_dir: Option<String>,
}

pub fn write(
    format: Format,
    report: &Report,
    style: &TextStyle,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Text => text::write(report, style, out),
        Format::Json => json::write(report, out),
        Format::Sarif => sarif::write(report, style, out),
        Format::Junit => junit::write(report, out),
        Format::Github => github::write(report, style, out),
    }
}

/// The repository path a finding points at, for code-scanning UIs and CI
/// annotations: `None` when there is no file (standard input without `# Source:`).
///
/// Helm names the template `<chart>/templates/x.yaml` (and a subchart's
/// `<chart>/charts/<sub>/templates/x.yaml`): the chart name is replaced by the
/// chart directory (`--chart-dir`, default `charts/<chart>`). Without a
/// `# Source:` line, the input file as given, with `/` separators.
pub fn repository_path(f: &Finding, chart_dir: Option<&str>) -> Option<String> {
    match &f.location.source {
        Some(source) => {
            let source = source.replace('\\', "/");
            let (chart, rest) = source.split_once('/').unwrap_or(("", source.as_str()));
            let path = match chart_dir {
                Some(dir) => {
                    let dir = dir.replace('\\', "/");
                    let dir = dir.trim_end_matches('/').trim_start_matches("./");
                    if dir.is_empty() || dir == "." {
                        rest.to_string()
                    } else {
                        format!("{dir}/{rest}")
                    }
                }
                None if chart.is_empty() => rest.to_string(),
                None => format!("charts/{chart}/{rest}"),
            };
            Some(path)
        }
        None if f.location.file.is_empty() || f.location.file == "<stdin>" => None,
        None => {
            let file = f.location.file.replace('\\', "/");
            Some(file.strip_prefix("./").unwrap_or(&file).to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(file: &str, source: Option<&str>) -> Finding {
        let mut f = Finding::new("duplicate-object", crate::finding::Severity::Error, "m");
        f.location.file = file.to_string();
        f.location.source = source.map(str::to_string);
        f
    }

    #[test]
    fn repository_paths() {
        let helm = finding(
            "<stdin>",
            Some("distributed-memcached/templates/cache-service.yaml"),
        );
        assert_eq!(
            repository_path(&helm, None).as_deref(),
            Some("charts/distributed-memcached/templates/cache-service.yaml")
        );
        assert_eq!(
            repository_path(&helm, Some("deploy/memcached/")).as_deref(),
            Some("deploy/memcached/templates/cache-service.yaml")
        );
        assert_eq!(
            repository_path(&helm, Some(".")).as_deref(),
            Some("templates/cache-service.yaml")
        );
        let sub = finding("<stdin>", Some("app/charts/memcached/templates/sts.yaml"));
        assert_eq!(
            repository_path(&sub, Some("app")).as_deref(),
            Some("app/charts/memcached/templates/sts.yaml")
        );
        assert_eq!(
            repository_path(&finding("./out/all.yaml", None), None).as_deref(),
            Some("out/all.yaml")
        );
        assert_eq!(repository_path(&finding("<stdin>", None), None), None);
    }
}
