//! Findings are data: rules create them, `report/` writers print them.

use serde::Serialize;

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

/// The Kubernetes object a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
pub struct ObjectRef {
    #[serde(rename = "apiVersion")]
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
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
    /// The input file as given (`<stdin>` for standard input).
    pub file: String,
    /// 0-based index of the document in its file.
    pub document: Option<usize>,
    /// The template named by helm's `# Source:` comment.
    pub source: Option<String>,
    /// JSON pointer into the object (`/spec/template/spec/containers/0/resources`).
    pub path: String,
    /// 1-based line in `file`.
    pub line: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    pub object: Option<ObjectRef>,
    pub location: Location,
    /// How to fix it.
    pub help: Option<String>,
    /// Set when an annotation or config suppressed this finding; suppressed findings
    /// are counted, not shown.
    pub suppressed: bool,
}

impl Finding {
    pub fn new(rule: &'static str, severity: Severity, message: impl Into<String>) -> Finding {
        Finding {
            rule,
            severity,
            message: message.into(),
            object: None,
            location: Location::default(),
            help: None,
            suppressed: false,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Finding {
        self.help = Some(help.into());
        self
    }

    /// `source` when helm named a template, else the file.
    pub fn source_or_file(&self) -> &str {
        self.location
            .source
            .as_deref()
            .unwrap_or(self.location.file.as_str())
    }

    /// Sort key: file, document, line, rule.
    pub fn sort_key(&self) -> (&str, Option<usize>, Option<u32>, &str, &str) {
        (
            self.location.file.as_str(),
            self.location.document,
            self.location.line,
            self.rule,
            self.message.as_str(),
        )
    }
}
