//! The JSON shape is a contract with CI systems: keep it stable.
//! `{"findings":[{rule,severity,message,object,source,file,path,line,document,help,template}],"summary":{documents,objects,errors,warnings,infos,suppressed}}`
//! Fields are only ever added (`document`, `suppressed` and `file` came after
//! the first release of the shape), never renamed or removed.
//! `file` is the input file as given (`<stdin>` for standard input), so two
//! renderings' `templates/pdb.yaml` can be told apart; `source` stays the
//! `# Source:` template (or the file when there is none).
//! `line` and `document` (the document's number in its file, `---`-separated,
//! empty ones included) both count from 1.
//! `template` (added later too) is where in the chart the rendered line comes
//! from, when the chart was found on disk: `{file, line, end_line, how, via}`,
//! `file` relative to the chart directory, `how` one of `line`, `enclosing`,
//! `unmatched` (then `line` is 1), `via` the `# Source:` template's line that
//! includes a named template (`{file, line}`).

use std::io::{self, Write};

use serde_json::json;

use crate::check::Report;
use crate::finding::{Finding, How, Severity};

#[cfg(test)]
fn finding_json(f: &Finding) -> serde_json::Value {
    let mut v = json!({
        "rule": f.rule,
        "severity": f.severity,
        "message": f.message,
        "object": f.object,
        "source": f.source_or_file(),
        "file": f.location.file,
        "path": f.location.path,
        "line": f.location.line,
        "document": f.location.document.map(|d| d + 1),
        "help": f.help,
    });
    if let Some(t) = f.template.as_ref().filter(|t| t.how != How::NoTemplate) {
        let mut tj = json!({"file": t.file, "line": t.line, "how": t.how.as_str()});
        if let Some(end) = t.end_line {
            tj["end_line"] = json!(end);
        }
        if let Some((file, line)) = &t.via {
            tj["via"] = json!({"file": file, "line": line});
        }
        v["template"] = tj;
    }
    v
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut summary = json!({
        "documents": report.documents,
        "objects": report.objects,
        "errors": report.count(Severity::Error),
        "warnings": report.count(Severity::Warning),
        "infos": report.count(Severity::Info),
        "suppressed": report.suppressed,
    });
    // Only with `--skip-non-k8s` skipping something, so reports without it keep their shape.
    if report.skipped > 0 {
        summary["skipped"] = json!(report.skipped);
    }
    // Keys in order, whatever order the maps were built in; the findings
    // are written one at a time, not built into one document first (a large
    // stream's 25,000 findings took 140 MiB as a document).
    summary.sort_all_objects();
    let doc = Document { report, summary };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// The report as written: `findings` then `summary`, in key order.
struct Document<'r> {
    report: &'r Report,
    summary: serde_json::Value,
}

/// The visible findings, each made a JSON value as it is written.
struct Findings<'r>(&'r Report);

impl serde::Serialize for Document<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("findings", &Findings(self.report))?;
        map.serialize_entry("summary", &self.summary)?;
        map.end()
    }
}

impl serde::Serialize for Findings<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(None)?;
        for f in self.0.visible() {
            seq.serialize_element(&Sorted(f))?;
        }
        seq.end()
    }
}

/// A finding as [`finding_json`] gives it with its keys sorted, written
/// straight out (a large stream's findings are not each built as a JSON
/// document first). `tests` holds the two equal.
struct Sorted<'f>(&'f Finding);

impl serde::Serialize for Sorted<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let f = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("document", &f.location.document.map(|d| d + 1))?;
        m.serialize_entry("file", &*f.location.file)?;
        m.serialize_entry("help", &f.help)?;
        m.serialize_entry("line", &f.location.line)?;
        m.serialize_entry("message", &f.message)?;
        m.serialize_entry("object", &f.object.as_ref().map(SortedObject))?;
        m.serialize_entry("path", &f.location.path)?;
        m.serialize_entry("rule", &f.rule)?;
        m.serialize_entry("severity", &f.severity)?;
        m.serialize_entry("source", f.source_or_file())?;
        if let Some(t) = f.template.as_ref().filter(|t| t.how != How::NoTemplate) {
            m.serialize_entry("template", &SortedTemplate(t))?;
        }
        m.end()
    }
}

struct SortedObject<'o>(&'o crate::finding::ObjectRef);

impl serde::Serialize for SortedObject<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let o = self.0;
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("apiVersion", &o.api_version)?;
        m.serialize_entry("kind", &o.kind)?;
        m.serialize_entry("name", &o.name)?;
        m.serialize_entry("namespace", &o.namespace)?;
        m.end()
    }
}

struct SortedTemplate<'t>(&'t crate::finding::TemplateLine);

impl serde::Serialize for SortedTemplate<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let t = self.0;
        let mut m = s.serialize_map(None)?;
        if let Some(end) = t.end_line {
            m.serialize_entry("end_line", &end)?;
        }
        m.serialize_entry("file", &t.file)?;
        m.serialize_entry("how", t.how.as_str())?;
        m.serialize_entry("line", &t.line)?;
        if let Some((file, line)) = &t.via {
            m.serialize_entry("via", &serde_json::json!({"file": file, "line": line}))?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{ObjectRef, TemplateLine};

    /// Every shape a finding's JSON takes: with and without an object, a
    /// document, a line, help and a template (with and without its end
    /// line and the template it is included through; one not found).
    fn findings() -> Vec<Finding> {
        let mut out = Vec::new();
        let bare = Finding::new("some-rule", Severity::Warning, "a \"quoted\" message\n");
        out.push(bare.clone());
        let mut full = Finding::new("other-rule", Severity::Error, "m");
        full.object = Some(ObjectRef {
            api_version: Some("apps/v1".into()),
            kind: Some("StatefulSet".into()),
            namespace: None,
            name: Some("cache".into()),
        });
        full.location.file = "chart.yaml".into();
        full.location.source = Some("templates/sts.yaml".into());
        full.location.document = Some(2);
        full.location.line = Some(17);
        full.location.path = "/spec/replicas".into();
        full.help = Some("Fix it.".into());
        out.push(full.clone());
        for (end_line, via, how) in [
            (None, None, How::Line),
            (
                Some(9),
                Some(("templates/_helpers.tpl".to_string(), 4)),
                How::Enclosing,
            ),
            (None, None, How::NoTemplate),
        ] {
            let mut f = full.clone();
            f.template = Some(Box::new(TemplateLine {
                file: "templates/sts.yaml".into(),
                line: 3,
                end_line,
                how,
                via,
                looked_in: None,
            }));
            out.push(f);
        }
        out
    }

    #[test]
    fn findings_are_written_as_their_json_with_sorted_keys() {
        for f in findings() {
            let mut want = finding_json(&f);
            want.sort_all_objects();
            let got = serde_json::to_string_pretty(&Sorted(&f)).unwrap();
            assert_eq!(got, serde_json::to_string_pretty(&want).unwrap());
        }
    }
}
