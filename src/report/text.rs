//! Human output, grouped by the template (or file) each finding comes from.

use std::io::{self, Write};

use super::TextStyle;
use crate::check::Report;
use crate::escape;
use crate::finding::Severity;

fn paint(style: &TextStyle, code: &str, s: &str) -> String {
    if style.color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

pub fn write(report: &Report, style: &TextStyle, out: &mut dyn Write) -> io::Result<()> {
    let mut current: Option<&str> = None;
    for f in report.visible() {
        let group = f.source_or_file();
        if current != Some(group) {
            if current.is_some() {
                writeln!(out)?;
            }
            writeln!(out, "{}", paint(style, "1;4", &escape::line(group)))?;
            current = Some(group);
        }
        let sev = match f.severity {
            Severity::Error => paint(style, "1;31", "error"),
            Severity::Warning => paint(style, "1;33", "warning"),
            Severity::Info => paint(style, "1;36", "info"),
        };
        let file = escape::line(&f.location.file);
        let mut at = match (f.location.line, f.location.source.is_some()) {
            (Some(line), true) => format!("{file}:{line}"),
            (Some(line), false) => format!("line {line}"),
            (None, _) => file.into_owned(),
        };
        if let Some(d) = f.location.document {
            // Counted from 1 for people; `---`-separated, empty documents included.
            at.push_str(&format!(" (document {})", d + 1));
        }
        let object = f
            .object
            .as_ref()
            .map(|o| format!(" {}", escape::line(&o.to_string())))
            .unwrap_or_default();
        let path = if f.location.path.is_empty() {
            String::new()
        } else {
            format!(" {}", escape::line(&f.location.path))
        };
        writeln!(out, "  {sev}[{}] {at}{object}{path}", f.rule)?;
        // Continuation lines of a message stay indented under it.
        let message = escape::lines(&f.message).replace('\n', "\n    ");
        writeln!(out, "    {message}")?;
        if let Some(help) = &f.help {
            let help = escape::lines(help).replace('\n', "\n    ");
            writeln!(out, "    {} {help}", paint(style, "2", "help:"))?;
        }
    }
    if current.is_some() {
        writeln!(out)?;
    }
    writeln!(out, "{}", super::summary(report))
}
