//! `mclint check`: inputs → documents → rules → one sorted list of findings.
//! Selection, ignores, severity overrides and suppressions are applied here, in
//! one place, after the rules ran.

use std::collections::HashMap;

use crate::finding::{Finding, Severity};
use crate::manifest::{Document, Input, InputKind};
use crate::rendering::{Rendering, Settings};
use crate::rules::{Context, RULES, Rule, Scope};
use crate::schema::SchemaSet;
use crate::streamed::Source;

pub use crate::rules::suppression::{IGNORE_ANNOTATION, IgnoreAnnotation, parse_ignore};

/// Hashes keys of text from the input, with keys drawn at random.
type Keys = foldhash::quality::RandomState;

#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Run only these rules (empty: all).
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub severity: HashMap<String, Severity>,
    /// Kubernetes version to validate against (`1.33`, `v1.33`, `1.33.4`); `None`: the newest.
    pub kube_version: Option<String>,
    /// Extra or overriding JSON schemas (same layout as `schemas/`).
    pub schema_dir: Option<std::path::PathBuf>,
    /// The namespace objects without `metadata.namespace` land in (default: `default`).
    pub namespace: Option<String>,
    /// Skip (and count) documents that are not Kubernetes objects: no
    /// `apiVersion` and no `kind` (a docker-compose file, a CI config, values).
    pub skip_non_k8s: bool,
    /// Libraries loaded before each `.lua` config given directly (`--lib`).
    pub libs: Vec<crate::rendering::Library>,
    /// How the rules are run over the documents (see [`Pass`]).
    pub pass: Pass,
    /// Fill [`Report::checked`], the list of every document checked (the
    /// JUnit writer lists what passed too). On by default; off, a large
    /// stream keeps a few hundred bytes a document less.
    pub list_checked: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            select: Vec::new(),
            ignore: Vec::new(),
            severity: HashMap::new(),
            kube_version: None,
            schema_dir: None,
            namespace: None,
            skip_non_k8s: false,
            libs: Vec::new(),
            pass: Pass::default(),
            list_checked: true,
        }
    }
}

/// How `check` runs the rules. The findings are the same either way
/// (`tests/residue.rs` proves it on every fixture and the real-world corpus);
/// only the memory held differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Documents are parsed and checked in batches of this many (at least 1):
    /// the rules over one document at a time run on each batch, which is
    /// then cut down to what the rules over the whole set read
    /// ([`crate::residue`]); those run last, on what was kept.
    Batches(usize),
    /// Every document parsed and kept whole, every rule run over all of them.
    Whole,
}

/// Documents per batch: large enough that a batch's fixed cost is lost in
/// its work, small enough that a batch of large documents stays a few MiB.
pub const BATCH_DOCUMENTS: usize = 256;

impl Default for Pass {
    fn default() -> Self {
        Pass::Batches(BATCH_DOCUMENTS)
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub documents: usize,
    pub objects: usize,
    /// Configs given as `.lua` files.
    pub configs: usize,
    pub suppressed: usize,
    /// Documents skipped as not Kubernetes objects (`--skip-non-k8s`); not in
    /// `documents`.
    pub skipped: usize,
    /// Every document and `.lua` config checked, in input order, for writers that
    /// list what passed too (junit).
    pub checked: Vec<Checked>,
}

/// One checked document (or `.lua` config, with no `document`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    pub file: String,
    pub document: Option<usize>,
    pub source: Option<String>,
    /// First content line of the document.
    pub line: Option<u32>,
    /// The object, when the document is one.
    pub object: Option<crate::finding::ObjectRef>,
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
#[error("unknown rule `{0}`{1} (see `mclint rules`)")]
pub struct UnknownRule(pub String, pub String);

impl CheckOptions {
    /// What the rendering is judged under.
    pub fn settings(&self) -> Settings {
        Settings {
            kube_version: self.kube_version.clone(),
            schema_dir: self.schema_dir.clone(),
            namespace: self.namespace.clone(),
        }
    }

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
    check_with(inputs, options, None)
}

/// [`check`] with the schema set already loaded (`mclint check` loads it first,
/// so a broken `--schema-dir` stops the run before any input is read).
pub fn check_with(
    inputs: &[Input],
    options: &CheckOptions,
    schemas: Option<std::sync::Arc<SchemaSet>>,
) -> Report {
    check_inputs(Inputs::Borrowed(inputs), options, schemas)
}

/// [`check_with`] that takes the inputs and lets each one's text go once
/// its documents are parsed: for a caller that needs neither again
/// (`mclint check` unless a writer maps findings to template lines).
pub fn check_owned(
    inputs: Vec<Input>,
    options: &CheckOptions,
    schemas: Option<std::sync::Arc<SchemaSet>>,
) -> Report {
    check_sources(
        inputs
            .into_iter()
            .map(|i| Source::Text(std::sync::Arc::new(i)))
            .collect(),
        options,
        schemas,
    )
}

/// [`check_owned`] of what [`crate::manifest::read_sources`] read: large
/// files are read as they are checked, never held whole.
pub fn check_sources(
    sources: Vec<Source>,
    options: &CheckOptions,
    schemas: Option<std::sync::Arc<SchemaSet>>,
) -> Report {
    check_inputs(Inputs::Owned(sources), options, schemas)
}

/// What a check reads.
enum Inputs<'i> {
    Borrowed(&'i [Input]),
    Owned(Vec<Source>),
}

fn check_inputs(
    inputs: Inputs<'_>,
    options: &CheckOptions,
    schemas: Option<std::sync::Arc<SchemaSet>>,
) -> Report {
    let is_lua = |i: &&Input| i.kind == InputKind::Lua;
    let lua: Vec<Input> = match &inputs {
        Inputs::Borrowed(list) => list.iter().filter(is_lua).cloned().collect(),
        Inputs::Owned(list) => list
            .iter()
            .filter_map(|s| match s {
                Source::Text(i) => Some(&**i),
                Source::File(_) => None,
            })
            .filter(is_lua)
            .cloned()
            .collect(),
    };
    // Each input's documents in turn; an owned input (its text, or its
    // open file) goes once its last document is taken.
    let mut documents: Box<dyn Iterator<Item = Document> + '_> = match inputs {
        Inputs::Borrowed(list) => Box::new(
            list.iter()
                .filter(|i| i.kind == InputKind::Yaml)
                .flat_map(crate::manifest::documents),
        ),
        Inputs::Owned(list) => Box::new(list.into_iter().flat_map(
            |s| -> Box<dyn Iterator<Item = Document>> {
                match s {
                    Source::Text(i) if i.kind == InputKind::Yaml => {
                        Box::new(crate::manifest::Documents::new(i, false))
                    }
                    Source::Text(_) => Box::new(std::iter::empty()),
                    Source::File(f) => Box::new(f.documents()),
                }
            },
        )),
    };
    let mut run = Run {
        options,
        schemas: schemas.map(Ok),
        findings: Vec::new(),
        texts: crate::json::Strings::new(),
        checked: Vec::new(),
        documents: 0,
        objects: 0,
        skipped: 0,
    };
    let (batch, whole) = match options.pass {
        Pass::Batches(n) => (n.max(1), false),
        Pass::Whole => (usize::MAX, true),
    };
    // Nothing need be kept when no rule over the whole set runs.
    let any_set_rule = RULES
        .iter()
        .any(|r| r.scope.runs_in(Scope::Set) && options.enabled(r));
    let mut residue: Vec<Document> = Vec::new();
    // The texts of what is kept, each held once.
    let mut strings = crate::json::Strings::new();
    loop {
        let mut docs: Vec<Document> = Vec::new();
        for doc in documents.by_ref() {
            if options.skip_non_k8s && is_non_k8s(&doc) {
                run.skipped += 1;
                continue;
            }
            docs.push(doc);
            if docs.len() == batch {
                break;
            }
        }
        if docs.is_empty() {
            break;
        }
        let full = docs.len() == batch;
        if whole {
            residue = docs;
            break;
        }
        let facts = run.rules(&docs, &[], Scope::Document, true);
        if any_set_rule {
            // What the memory rules read of each command line, for the
            // rules over the whole set.
            for (doc, fact) in docs.iter_mut().zip(facts.into_iter().flatten()) {
                doc.set_memcached(fact);
            }
            // Lists and maps are held once from the second batch on: what a
            // run of one batch (a chart) keeps is small, and looking each
            // up would cost more than it saves.
            strings.hold_lists(!residue.is_empty());
            residue.extend(
                docs.into_iter()
                    .filter_map(|d| d.shrink(crate::residue::prune, &mut strings)),
            );
        }
        if !full {
            break;
        }
    }
    drop(documents);
    drop(strings);
    // Held to the end of the run: no room past what it holds. So are the
    // findings of the batches (grown by doubling, up to twice what they
    // hold).
    residue.shrink_to_fit();
    run.findings.shrink_to_fit();
    if whole {
        run.rules(&residue, &lua, Scope::Document, true);
        run.rules(&residue, &lua, Scope::Set, false);
    } else {
        run.rules(&residue, &lua, Scope::Set, false);
    }
    run.checked.extend(
        lua.iter()
            .filter(|_| options.list_checked)
            .map(|i| Checked {
                file: i.name.to_string(),
                ..Checked::default()
            }),
    );
    let mut findings = run.findings;
    for f in &mut findings {
        if let Some(s) = options.severity.get(f.rule) {
            f.severity = *s;
        }
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup();
    // Counted after `dedup`, so a finding reported twice is not suppressed twice.
    let suppressed = findings.iter().filter(|f| f.suppressed).count();
    Report {
        findings,
        documents: run.documents,
        objects: run.objects,
        configs: lua.len(),
        suppressed,
        skipped: run.skipped,
        checked: run.checked,
    }
}

/// The state of one `check`: what was found and counted so far.
struct Run<'o> {
    options: &'o CheckOptions,
    /// The schema set, once a rule loaded it (or as given): loaded once per
    /// run, not once per batch.
    schemas: Option<Result<std::sync::Arc<SchemaSet>, crate::schema::SchemaError>>,
    findings: Vec<Finding>,
    /// The findings' messages and paths, each text held once.
    texts: crate::json::Strings,
    checked: Vec<Checked>,
    documents: usize,
    objects: usize,
    skipped: usize,
}

impl Run<'_> {
    /// Runs the enabled rules of `scope` over `docs` (and `lua`), marking
    /// suppressed findings. `count`: these documents are met for the first
    /// time, so they are counted and listed as checked.
    ///
    /// Answers, after the pass over documents, what the memory rules read
    /// of each document's command lines ([`crate::rules::Context::memcached_facts`]).
    fn rules(
        &mut self,
        docs: &[Document],
        lua: &[Input],
        scope: Scope,
        count: bool,
    ) -> Option<Vec<Option<crate::manifest::Memcached>>> {
        let options = self.options;
        let rendering =
            Rendering::new(docs, lua, options.settings()).with_libs(options.libs.clone());
        let mut ctx = match self.schemas.clone() {
            Some(set) => Context::with_loaded_schemas(rendering, set),
            None => Context::new(rendering),
        };
        ctx.pass = scope;
        let mut findings: Vec<Finding> = Vec::new();
        for rule in RULES {
            if rule.scope.runs_in(scope) && options.enabled(rule) {
                let before = findings.len();
                (rule.check)(&ctx, &mut findings);
                // Each rule's findings share their texts at once: a rule
                // over a large set may repeat one message thousands of times.
                for f in &mut findings[before..] {
                    f.share(&mut self.texts);
                }
            }
        }
        if self.schemas.is_none() {
            self.schemas = ctx.loaded_schemas();
        }
        // The objects of the documents findings name, by (file, document),
        // to find each finding's annotations at once.
        let named: std::collections::HashSet<(&str, usize), Keys> = findings
            .iter()
            .filter(|f| f.object.is_some())
            .filter_map(|f| Some((&*f.location.file, f.location.document?)))
            .collect();
        let by_document: HashMap<(&str, usize), Vec<&crate::manifest::Object>, Keys> =
            if named.is_empty() {
                HashMap::default()
            } else {
                ctx.objects
                    .iter()
                    .filter(|o| named.contains(&(o.doc.file.as_ref(), o.doc.index)))
                    .fold(HashMap::default(), |mut m, o| {
                        m.entry((o.doc.file.as_ref(), o.doc.index))
                            .or_default()
                            .push(o);
                        m
                    })
            };
        for f in &mut findings {
            if is_suppressed(&by_document, f) {
                f.suppressed = true;
            }
        }
        // The last pass (`!count`): no room past what the run ends with.
        if self.findings.is_empty() {
            self.findings = findings;
        } else {
            if !count {
                self.findings.reserve_exact(findings.len());
            }
            self.findings.append(&mut findings);
        }
        if !count {
            self.findings.shrink_to_fit();
        }
        if count {
            self.documents += docs.len();
            self.objects += ctx.objects.len();
        }
        if count && options.list_checked {
            let objects: HashMap<(&str, usize), crate::finding::ObjectRef> = ctx
                .objects
                .iter()
                .map(|o| ((o.doc.file.as_ref(), o.doc.index), o.reference()))
                .collect();
            self.checked.extend(docs.iter().map(|d| Checked {
                file: d.file.to_string(),
                document: Some(d.index),
                source: d.source.as_deref().map(str::to_string),
                line: Some(d.line),
                object: objects.get(&(d.file.as_ref(), d.index)).cloned(),
            }));
        }
        (scope == Scope::Document)
            .then(|| ctx.memcached_facts(docs))
            .flatten()
    }
}

/// A document that parsed, is not empty, and has neither `apiVersion` nor
/// `kind` at its top level (a list or a scalar has neither). Documents that
/// did not parse are kept, so their YAML errors are still reported.
fn is_non_k8s(doc: &Document) -> bool {
    let Some(value) = &doc.value else {
        return false;
    };
    if value.is_null() {
        return false;
    }
    !value.is_object() || (value.get("apiVersion").is_none() && value.get("kind").is_none())
}

fn is_suppressed(
    by_document: &HashMap<(&str, usize), Vec<&crate::manifest::Object>, Keys>,
    f: &Finding,
) -> bool {
    let Some(obj_ref) = &f.object else {
        return false;
    };
    let Some(document) = f.location.document else {
        return false;
    };
    by_document
        .get(&(&*f.location.file, document))
        .into_iter()
        .flatten()
        .any(|o| {
            o.kind == obj_ref.kind.as_deref().unwrap_or_default()
                && o.annotation(IGNORE_ANNOTATION).is_some_and(|v| {
                    parse_ignore(v)
                        .ids
                        .iter()
                        .any(|id| *id == f.rule || *id == "all")
                })
        })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn input(name: &str, kind: InputKind, text: &str) -> Input {
        Input {
            name: Arc::from(name),
            kind,
            text: text.to_string(),
        }
    }

    #[test]
    fn report_lists_every_document_and_counts_suppressed_findings() {
        let yaml = "- a list\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  annotations:\n    mclint.io/ignore: \"service-selects-no-pods -- external pods\"\nspec:\n  selector: {app: x}\n";
        let inputs = [
            input("a.yaml", InputKind::Yaml, yaml),
            input("proxy.lua", InputKind::Lua, "-- routes\n"),
        ];
        let options = CheckOptions {
            select: vec!["not-an-object".into(), "service-selects-no-pods".into()],
            ..CheckOptions::default()
        };
        let report = check(&inputs, &options);
        let checked: Vec<(&str, Option<usize>, Option<&str>)> = report
            .checked
            .iter()
            .map(|c| {
                let kind = c.object.as_ref().and_then(|o| o.kind.as_deref());
                (c.file.as_str(), c.document, kind)
            })
            .collect();
        assert_eq!(
            checked,
            [
                ("a.yaml", Some(0), None),
                ("a.yaml", Some(1), Some("Service")),
                ("proxy.lua", None, None)
            ]
        );
        assert_eq!(report.findings.len(), 2);
        assert_eq!(report.suppressed, 1);
        assert_eq!(
            report.suppressed,
            report.findings.iter().filter(|f| f.suppressed).count()
        );
    }

    #[test]
    fn taking_the_inputs_gives_the_same_report_as_borrowing_them() {
        let yaml = "apiVersion: v1\nkind: Service\nmetadata: {name: s, annotations: {mclint.io/ignore: all}}\nspec:\n  selector: {app: x}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {app: y}}\n  template:\n    metadata: {labels: {app: y}}\n    spec:\n      containers:\n      - {name: mc, image: 'memcached:1.6.38', args: ['-m', '64', '-p', '11311'], ports: [{containerPort: 11211}]}\n---\n- a list\n";
        let inputs = vec![
            input("a.yaml", InputKind::Yaml, yaml),
            input("proxy.lua", InputKind::Lua, "pools{}\n"),
        ];
        for pass in [Pass::Whole, Pass::Batches(1)] {
            let options = CheckOptions {
                pass,
                ..CheckOptions::default()
            };
            let borrowed = check(&inputs, &options);
            let owned = check_owned(inputs.clone(), &options, None);
            assert!(!borrowed.findings.is_empty());
            assert_eq!(borrowed.findings, owned.findings);
            assert_eq!(
                (
                    borrowed.documents,
                    borrowed.objects,
                    borrowed.configs,
                    borrowed.suppressed
                ),
                (
                    owned.documents,
                    owned.objects,
                    owned.configs,
                    owned.suppressed
                )
            );
        }
    }

    #[test]
    fn skip_non_k8s_skips_and_counts_documents_without_api_version_and_kind() {
        let yaml = "services:\n  web: {image: nginx}\n---\n- a list\n---\napiVersion: v1\nmetadata: {name: no-kind}\n---\nkind: ConfigMap\nmetadata: {name: no-api-version}\n---\na: [1\n";
        let inputs = [input("mixed.yaml", InputKind::Yaml, yaml)];
        let options = CheckOptions {
            select: vec!["not-an-object".into()],
            ..CheckOptions::default()
        };
        // Without the flag the compose file and the list are errors.
        let all = check(&inputs, &options);
        assert_eq!(all.skipped, 0);
        assert_eq!(all.documents, 5);
        assert_eq!(
            all.findings
                .iter()
                .filter(|f| f.rule == "not-an-object")
                .count(),
            3
        );
        let skip = check(
            &inputs,
            &CheckOptions {
                skip_non_k8s: true,
                ..options
            },
        );
        assert_eq!(skip.skipped, 2);
        assert_eq!(skip.documents, 3);
        // A document with only one of the two is still checked (and lacks a
        // kind); the one that does not parse is still checked too.
        let docs: Vec<Option<usize>> = skip.checked.iter().map(|c| c.document).collect();
        assert_eq!(docs, [Some(2), Some(3), Some(4)]);
        assert_eq!(
            skip.findings
                .iter()
                .filter(|f| f.rule == "not-an-object")
                .count(),
            1
        );
    }
}
