//! `mclint check`: inputs → documents → rules → one sorted list of findings.
//! Selection, ignores, severity overrides and suppressions are applied here, in
//! one place, after the rules ran.

use std::collections::HashMap;

use crate::finding::{Finding, Severity};
use crate::manifest::{Document, Input, InputKind, parse_stream};
use crate::rules::{Context, RULES, Rule};

/// The annotation that suppresses rules for one object:
/// `mclint.io/ignore: "memory-limit-below-peak,route-unused-pool -- reason"`.
pub const IGNORE_ANNOTATION: &str = "mclint.io/ignore";

#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Run only these rules (empty: all).
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub severity: HashMap<String, Severity>,
    /// Kubernetes version to validate against (`1.33`, `v1.33`, `1.33.4`); `None`: the newest.
    pub kube_version: Option<String>,
    /// Extra or overriding JSON schemas (same layout as `schemas/`).
    pub schema_dir: Option<std::path::PathBuf>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub documents: usize,
    pub objects: usize,
    /// Configs given as `.lua` files.
    pub configs: usize,
    pub suppressed: usize,
}

impl Report {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| !f.suppressed && f.severity == severity)
            .count()
    }

    pub fn visible(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| !f.suppressed)
    }

    /// Is there a finding at or above `level`?
    pub fn fails(&self, level: Severity) -> bool {
        self.visible().any(|f| f.severity >= level)
    }
}

/// Error for an id given to `--select`, `--ignore` or the config file.
#[derive(Debug, thiserror::Error)]
#[error("unknown rule `{0}` (see `mclint rules`){1}")]
pub struct UnknownRule(pub String, pub String);

impl CheckOptions {
    pub fn validate(&self) -> Result<(), UnknownRule> {
        for id in self
            .select
            .iter()
            .chain(&self.ignore)
            .chain(self.severity.keys())
        {
            if crate::rules::find(id).is_none() {
                let near = crate::suggest::nearest(id, RULES.iter().map(|r| r.id))
                    .map(|n| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                return Err(UnknownRule(id.clone(), near));
            }
        }
        Ok(())
    }

    fn enabled(&self, rule: &Rule) -> bool {
        (self.select.is_empty() || self.select.iter().any(|s| s == rule.id))
            && !self.ignore.iter().any(|s| s == rule.id)
    }
}

pub fn check(inputs: &[Input], options: &CheckOptions) -> Report {
    let mut documents: Vec<Document> = Vec::new();
    let mut lua: Vec<Input> = Vec::new();
    for input in inputs {
        match input.kind {
            InputKind::Yaml => documents.extend(parse_stream(input)),
            InputKind::Lua => lua.push(input.clone()),
        }
    }
    let ctx = Context::new(&documents, &lua, options);
    let mut findings = Vec::new();
    for rule in RULES {
        if options.enabled(rule) {
            (rule.check)(&ctx, &mut findings);
        }
    }
    for f in &mut findings {
        if let Some(s) = options.severity.get(f.rule) {
            f.severity = *s;
        }
    }
    let mut suppressed = 0;
    for f in &mut findings {
        if is_suppressed(&ctx, f) {
            f.suppressed = true;
            suppressed += 1;
        }
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup();
    Report {
        findings,
        documents: documents.len(),
        objects: ctx.objects.len(),
        configs: lua.len(),
        suppressed,
    }
}

fn is_suppressed(ctx: &Context, f: &Finding) -> bool {
    let Some(obj_ref) = &f.object else {
        return false;
    };
    ctx.objects.iter().any(|o| {
        o.doc.file.as_ref() == f.location.file
            && Some(o.doc.index) == f.location.document
            && o.kind == obj_ref.kind.as_deref().unwrap_or_default()
            && o.annotation(IGNORE_ANNOTATION).is_some_and(|v| {
                let ids = v.split("--").next().unwrap_or("");
                ids.split(',')
                    .any(|id| id.trim() == f.rule || id.trim() == "all")
            })
    })
}
