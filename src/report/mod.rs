//! One writer per output format. Only this module and `main.rs` print.

pub use crate::escape;
pub mod diff;
mod github;
pub mod graph;
mod json;
mod junit;
pub mod route;
mod sarif;
mod text;

use std::io::{self, Write};

use crate::check::Report;
use crate::finding::Finding;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// How to write a report: colour for `text`; where the chart lives, for the
/// locations of `sarif` and `github` (each finding carries its template line).
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

/// `0 documents`, `1 document`, `2 documents`: a count with its noun, for the
/// summary lines (every noun used there takes a plain `s`).
pub fn count_of(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The summary line of `text` and `github`: `2 documents, 1 object: 1 error,
/// 0 warnings, 0 infos`, then ` (1 proxy config)`, `, 3 suppressed` and
/// `, 2 documents skipped (not Kubernetes objects)` when there are any.
pub fn summary(report: &Report) -> String {
    use crate::finding::Severity;
    let mut s = format!(
        "{}, {}: {}, {}, {}",
        count_of(report.documents, "document"),
        count_of(report.objects, "object"),
        count_of(report.count(Severity::Error), "error"),
        count_of(report.count(Severity::Warning), "warning"),
        count_of(report.count(Severity::Info), "info"),
    );
    if report.configs > 0 {
        s.push_str(&format!(" ({})", count_of(report.configs, "proxy config")));
    }
    if report.suppressed > 0 {
        s.push_str(&format!(", {} suppressed", report.suppressed));
    }
    if report.skipped > 0 {
        let what = if report.skipped == 1 {
            "not a Kubernetes object"
        } else {
            "not Kubernetes objects"
        };
        s.push_str(&format!(
            ", {} skipped ({what})",
            count_of(report.skipped, "document")
        ));
    }
    s
}

/// Where a code-scanning UI or CI annotation should show a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// Repository path (see [`repository_path`]).
    pub path: String,
    /// 1-based, never past the end of a template file; `None` when the
    /// finding has no line at all (a plain input without one).
    pub line: Option<u32>,
    pub end_line: Option<u32>,
    /// When the finding is shown in a named template: the line of the
    /// `# Source:` template that includes it (repository path, line).
    pub via: Option<(String, u32)>,
    /// Why the line is only line 1, when it is.
    pub note: Option<String>,
}

/// The place of a finding: for a template (`# Source:`), the template line
/// the finding carries (`crate::template_lines::enrich`); otherwise the input
/// file and its line.
pub fn place(f: &Finding, style: &TextStyle) -> Option<Place> {
    let chart_dir = style.chart_dir.as_deref();
    let path = repository_path(f, chart_dir)?;
    let Some(source) = &f.location.source else {
        return Some(Place {
            path,
            line: f.location.line.filter(|l| *l > 0),
            end_line: None,
            via: None,
            note: None,
        });
    };
    use crate::finding::How;
    let in_chart = |rel: &str| chart_path(source, chart_dir, rel);
    let Some(m) = &f.template else {
        return Some(Place {
            path,
            line: Some(1),
            end_line: None,
            via: None,
            note: Some(
                "template line unknown: the rendered line was not mapped to the template; shown on line 1".into(),
            ),
        });
    };
    let note = match m.how {
        How::Line | How::Enclosing => None,
        How::Unmatched => Some(format!(
            "template line unknown: no line of {} matches the rendered line; shown on line 1",
            in_chart(&m.file)
        )),
        How::NoTemplate => Some(match &m.looked_in {
            Some(dir) => format!(
                "template line unknown: {} is not in the chart at {dir}; shown on line 1",
                m.file
            ),
            None => "template line unknown: chart directory not found (run from the repository root or pass --chart-dir); shown on line 1".to_string(),
        }),
    };
    Some(Place {
        path: in_chart(&m.file),
        line: Some(m.line.max(1)),
        end_line: m.end_line,
        via: m.via.as_ref().map(|(file, line)| (in_chart(file), *line)),
        note,
    })
}

/// `<chart dir>/<rel>` for a file of the chart that `source` comes from.
fn chart_path(source: &str, chart_dir: Option<&str>, rel: &str) -> String {
    let source = source.replace('\\', "/");
    let chart = source.split_once('/').map_or("", |(c, _)| c);
    match chart_dir {
        Some(dir) => {
            let dir = dir.replace('\\', "/");
            let dir = dir.trim_end_matches('/').trim_start_matches("./");
            if dir.is_empty() || dir == "." {
                rel.to_string()
            } else {
                format!("{dir}/{rel}")
            }
        }
        None if chart.is_empty() => rel.to_string(),
        None => format!("charts/{chart}/{rel}"),
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
            let rest = source.split_once('/').map_or(source.as_str(), |(_, r)| r);
            Some(chart_path(&source, chart_dir, rest))
        }
        None if f.location.file.is_empty() || &*f.location.file == "<stdin>" => None,
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
        f.location.file = file.into();
        f.location.source = source.map(Into::into);
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
