//! Findings are data: rules create them, `report/` writers print them.

use std::borrow::Cow;

use serde::Serialize;

use crate::json::Str;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Some(Severity::Info),
            "warning" | "warn" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Kubernetes object a finding is about: the object's own strings,
/// shared (a large stream's findings copy none).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
pub struct ObjectRef {
    #[serde(rename = "apiVersion")]
    pub api_version: Option<Str>,
    pub kind: Option<Str>,
    pub namespace: Option<Str>,
    pub name: Option<Str>,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = self.kind.as_deref().unwrap_or("?");
        let name = self.name.as_deref().unwrap_or("?");
        match &self.namespace {
            Some(ns) => write!(f, "{kind} {ns}/{name}"),
            None => write!(f, "{kind} {name}"),
        }
    }
}

/// Where a finding points: the input file, the document in it, the template that
/// produced it (helm's `# Source:` line) and the field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Location {
    /// The input file as given (`<stdin>` for standard input), shared with
    /// the document's (a large stream's findings hold it once).
    pub file: std::sync::Arc<str>,
    /// 0-based index of the document in its file.
    pub document: Option<usize>,
    /// The template named by helm's `# Source:` comment (shared likewise).
    pub source: Option<std::sync::Arc<str>>,
    /// JSON pointer into the object (`/spec/template/spec/containers/0/resources`).
    pub path: crate::json::Str,
    /// 1-based line in `file`.
    pub line: Option<u32>,
}

/// How a template line was found (see `crate::template_lines`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// The rendered line itself matched.
    Line,
    /// An enclosing rendered line matched (the key whose block a helper wrote).
    Enclosing,
    /// The template was read but no line matched: line 1.
    Unmatched,
    /// The template was not found on disk: line 1.
    NoTemplate,
}

impl How {
    pub fn as_str(self) -> &'static str {
        match self {
            How::Line => "line",
            How::Enclosing => "enclosing",
            How::Unmatched => "unmatched",
            How::NoTemplate => "template-not-found",
        }
    }
}

/// Where in the chart a finding's rendered line comes from: filled by
/// `crate::template_lines::enrich` and read by every writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateLine {
    /// The file, relative to the chart directory (`templates/_cache.tpl`).
    pub file: String,
    /// 1-based; 1 when nothing matched.
    pub line: u32,
    /// Last line of the region, when it spans the action lines after `line`.
    pub end_line: Option<u32>,
    pub how: How,
    /// When the match is in a named template: the line of the `# Source:`
    /// template (chart-relative file, line) that includes it.
    pub via: Option<(String, u32)>,
    /// The chart directory on disk, when found (for the message of `NoTemplate`).
    pub looked_in: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    /// Shared with the findings of the same text (a large stream's findings
    /// repeat a few messages many times: see [`Finding::share`]).
    pub message: crate::json::Str,
    pub object: Option<ObjectRef>,
    pub location: Location,
    /// How to fix it: a rule's own text is borrowed, not copied into each
    /// finding.
    pub help: Option<Cow<'static, str>>,
    /// The template line, once mapped (`crate::template_lines::enrich`):
    /// boxed, as most findings have none.
    pub template: Option<Box<TemplateLine>>,
    /// Set when an annotation or config suppressed this finding; suppressed findings
    /// are counted, not shown.
    pub suppressed: bool,
}

impl Finding {
    pub fn new(rule: &'static str, severity: Severity, message: impl Into<String>) -> Finding {
        Finding {
            rule,
            severity,
            message: message.into().into(),
            object: None,
            location: Location::default(),
            help: None,
            template: None,
            suppressed: false,
        }
    }

    /// Makes its message and path copies of those of the same text in
    /// `strings`, and gives back the room an owned help text was grown
    /// with: a report of a large stream keeps every finding to the end.
    pub fn share(&mut self, strings: &mut crate::json::Strings) {
        strings.share(&mut self.message);
        strings.share(&mut self.location.path);
        if let Some(Cow::Owned(help)) = &mut self.help {
            help.shrink_to_fit();
        }
    }

    pub fn with_help(mut self, help: impl Into<Cow<'static, str>>) -> Finding {
        self.help = Some(help.into());
        self
    }

    /// `source` when helm named a template, else the file.
    pub fn source_or_file(&self) -> &str {
        self.location
            .source
            .as_deref()
            .unwrap_or(&self.location.file)
    }

    /// Sort key: file, document, line, rule.
    pub fn sort_key(&self) -> (&str, Option<usize>, Option<u32>, &str, &str) {
        (
            &self.location.file,
            self.location.document,
            self.location.line,
            self.rule,
            self.message.as_str(),
        )
    }
}
