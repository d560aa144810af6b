//! JUnit XML, for CI systems that show test results: a `<testsuite>` per input
//! file, a `<testcase>` per document (named after its object) or `.lua` config,
//! and one `<failure>` on a testcase with error or warning findings, listing
//! them all. Info findings and suppressed findings go to `<system-out>`.

use std::io::{self, Write};

use crate::check::{Checked, Report};
use crate::finding::{Finding, Severity};

/// Text for XML content and attribute values. Characters XML 1.0 cannot carry
/// (most control characters) become U+FFFD.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Text for an attribute value: like [`escape`], and line breaks and tabs as
/// character references, which attribute-value normalisation would otherwise
/// turn into spaces.
pub fn escape_attr(s: &str) -> String {
    escape(s)
        .replace('\t', "&#9;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
}

struct Case<'r> {
    name: String,
    classname: String,
    line: Option<u32>,
    findings: Vec<&'r Finding>,
}

impl Case<'_> {
    fn failing(&self) -> Vec<&Finding> {
        self.findings
            .iter()
            .copied()
            .filter(|f| !f.suppressed && f.severity >= Severity::Warning)
            .collect()
    }
}

fn case_for(c: &Checked) -> Case<'static> {
    let name = match (&c.object, c.document) {
        (Some(o), _) => o.to_string(),
        (None, Some(d)) => format!("document {}", d + 1),
        (None, None) => c.file.clone(),
    };
    Case {
        name,
        classname: c.source.clone().unwrap_or_else(|| c.file.clone()),
        line: c.line,
        findings: Vec::new(),
    }
}

fn describe(f: &Finding) -> String {
    let mut s = format!("{}[{}]", f.severity, f.rule);
    if let Some(line) = f.location.line {
        s.push_str(&format!(" line {line}"));
    }
    if !f.location.path.is_empty() {
        s.push_str(&format!(" {}", f.location.path));
    }
    s.push_str(&format!(": {}", f.message));
    if let Some(help) = &f.help {
        s.push_str(&format!("\n  help: {help}"));
    }
    s
}

/// A testsuite: the input file and its cases, each with its document index.
type Suite<'r> = (String, Vec<(Option<usize>, Case<'r>)>);

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    // Suites in input order, cases in document order.
    let mut suites: Vec<Suite> = Vec::new();
    fn suite<'s, 'r>(
        suites: &'s mut Vec<Suite<'r>>,
        file: &str,
    ) -> &'s mut Vec<(Option<usize>, Case<'r>)> {
        let i = match suites.iter().position(|(f, _)| f == file) {
            Some(i) => i,
            None => {
                suites.push((file.to_string(), Vec::new()));
                suites.len() - 1
            }
        };
        &mut suites[i].1
    }
    for c in &report.checked {
        suite(&mut suites, &c.file).push((c.document, case_for(c)));
    }
    for f in &report.findings {
        let cases = suite(&mut suites, &f.location.file);
        match cases.iter_mut().find(|(d, _)| *d == f.location.document) {
            Some((_, case)) => case.findings.push(f),
            None => {
                let mut case = case_for(&Checked {
                    file: f.location.file.to_string(),
                    document: f.location.document,
                    source: f.location.source.as_deref().map(str::to_string),
                    line: f.location.line,
                    object: f.object.clone(),
                });
                case.findings.push(f);
                cases.push((f.location.document, case));
            }
        }
    }
    let total: usize = suites.iter().map(|(_, c)| c.len()).sum();
    let failures: usize = suites
        .iter()
        .flat_map(|(_, c)| c)
        .filter(|(_, c)| !c.failing().is_empty())
        .count();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="mclint" tests="{total}" failures="{failures}" errors="0" skipped="0">"#
    )?;
    for (file, cases) in &suites {
        let fails = cases
            .iter()
            .filter(|(_, c)| !c.failing().is_empty())
            .count();
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{fails}" errors="0" skipped="0">"#,
            escape_attr(file),
            cases.len()
        )?;
        for (_, case) in cases {
            let line = case
                .line
                .map(|l| format!(r#" line="{l}""#))
                .unwrap_or_default();
            write!(
                out,
                r#"    <testcase name="{}" classname="{}" file="{}"{line}"#,
                escape_attr(&case.name),
                escape_attr(&case.classname),
                escape_attr(file)
            )?;
            let failing = case.failing();
            let other: Vec<&Finding> = case
                .findings
                .iter()
                .copied()
                .filter(|f| f.suppressed || f.severity < Severity::Warning)
                .collect();
            if failing.is_empty() && other.is_empty() {
                writeln!(out, "/>")?;
                continue;
            }
            writeln!(out, ">")?;
            if !failing.is_empty() {
                let (message, kind) = match failing.as_slice() {
                    [one] => (one.message.to_string(), one.rule.to_string()),
                    many => {
                        let mut rules: Vec<&str> = many.iter().map(|f| f.rule).collect();
                        rules.dedup();
                        (
                            format!("{} findings: {}", many.len(), rules.join(", ")),
                            rules.join(","),
                        )
                    }
                };
                let body: Vec<String> = failing.iter().map(|f| describe(f)).collect();
                writeln!(
                    out,
                    r#"      <failure message="{}" type="{}">{}</failure>"#,
                    escape_attr(&message),
                    escape_attr(&kind),
                    escape(&body.join("\n"))
                )?;
            }
            if !other.is_empty() {
                let body: Vec<String> = other
                    .iter()
                    .map(|f| {
                        if f.suppressed {
                            format!("suppressed: {}", describe(f))
                        } else {
                            describe(f)
                        }
                    })
                    .collect();
                writeln!(
                    out,
                    "      <system-out>{}</system-out>",
                    escape(&body.join("\n"))
                )?;
            }
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            super::escape("a<b & \"c\" 'd'>\u{1b}"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;\u{fffd}"
        );
        assert_eq!(super::escape_attr("a\r\n\tb"), "a&#13;&#10;&#9;b");
    }
}
