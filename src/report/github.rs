//! GitHub Actions workflow commands: one `::error`, `::warning` or `::notice`
//! line per finding, which the Actions runner turns into an annotation on the
//! file and line (`file=` is a repository path and `line=`/`endLine=` the
//! template line, see [`super::place`]; the rendered line is in the message).
//! A plain summary line follows.
//!
//! Escaping follows the runner's rules: in the message, `%`, `\r` and `\n`
//! become `%25`, `%0D` and `%0A`; in property values (`file`, `title`), `:` and
//! `,` also become `%3A` and `%2C`. Before that, every other control character
//! and Unicode bidi control or line separator from the input is escaped (see
//! [`crate::escape`]), so nothing but the runner's own escapes reach the log.

use std::io::{self, Write};

use super::TextStyle;
use crate::check::Report;
use crate::escape;
use crate::finding::Severity;

/// Workflow-command data (the message): line breaks kept as `%0A`, other
/// unsafe characters escaped first.
pub fn escape_data(s: &str) -> String {
    let s = escape::lines(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// A workflow-command property value (`file`, `title`): one line.
pub fn escape_property(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in escape_data(&escape::line(s)).chars() {
        match c {
            ':' => out.push_str("%3A"),
            ',' => out.push_str("%2C"),
            c => out.push(c),
        }
    }
    out
}

pub fn write(report: &Report, style: &TextStyle, out: &mut dyn Write) -> io::Result<()> {
    for f in report.visible() {
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = Vec::new();
        let place = super::place(f, style);
        if let Some(p) = &place {
            props.push(format!("file={}", escape_property(&p.path)));
            if let Some(line) = p.line {
                props.push(format!("line={line}"));
                if let Some(end) = p.end_line.filter(|e| *e > line) {
                    props.push(format!("endLine={end}"));
                }
            }
        }
        let title = match &f.object {
            Some(o) => format!("mclint {} ({o})", f.rule),
            None => format!("mclint {}", f.rule),
        };
        props.push(format!("title={}", escape_property(&title)));
        let mut message = f.message.to_string();
        if f.location.source.is_some() {
            let line = f.location.line.map(|l| format!(":{l}")).unwrap_or_default();
            message.push_str(&format!("\n(rendered: {}{line}", f.location.file));
            if let Some((path, line)) = place.as_ref().and_then(|p| p.via.as_ref()) {
                message.push_str(&format!("; included at {path}:{line}"));
            }
            message.push(')');
        }
        if let Some(note) = place.as_ref().and_then(|p| p.note.as_ref()) {
            message.push_str(&format!("\n({note})"));
        }
        if let Some(help) = &f.help {
            message.push_str(&format!("\nhelp: {help}"));
        }
        writeln!(
            out,
            "::{command} {}::{}",
            props.join(","),
            escape_data(&message)
        )?;
    }
    writeln!(out, "mclint: {}", super::summary(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_runner() {
        assert_eq!(escape_data("50% of\r\nkeys: a,b"), "50%25 of%0Akeys: a,b");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25\\n");
        assert_eq!(
            escape_data("x\u{1b}]52;c;aGk=\u{7}\n::error::forged"),
            "x\\u{1b}]52;c;aGk=\\u{7}%0A::error::forged"
        );
    }
}
