//! The JSON shape is a contract with CI systems: keep it stable.
//! `{"findings":[{rule,severity,message,object,source,file,path,line,document,help}],"summary":{documents,objects,errors,warnings,infos,suppressed}}`
//! Fields are only ever added (`document`, `suppressed` and `file` came after
//! the first release of the shape), never renamed or removed.
//! `file` is the input file as given (`<stdin>` for standard input), so two
//! renderings' `templates/pdb.yaml` can be told apart; `source` stays the
//! `# Source:` template (or the file when there is none).
//! `line` and `document` (the document's number in its file, `---`-separated,
//! empty ones included) both count from 1.

use std::io::{self, Write};

use serde_json::json;

use crate::check::Report;
use crate::finding::{Finding, Severity};

pub fn finding_json(f: &Finding) -> serde_json::Value {
    json!({
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
    })
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut doc = json!({
        "findings": report.visible().map(finding_json).collect::<Vec<_>>(),
        "summary": {
            "documents": report.documents,
            "objects": report.objects,
            "errors": report.count(Severity::Error),
            "warnings": report.count(Severity::Warning),
            "infos": report.count(Severity::Info),
            "suppressed": report.suppressed,
        }
    });
    // Only with `--skip-non-k8s` skipping something, so reports without it keep their shape.
    if report.skipped > 0 {
        doc["summary"]["skipped"] = json!(report.skipped);
    }
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
