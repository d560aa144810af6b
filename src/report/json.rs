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

pub fn finding_json(f: &Finding) -> serde_json::Value {
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
            let mut v = finding_json(f);
            v.sort_all_objects();
            seq.serialize_element(&v)?;
        }
        seq.end()
    }
}
