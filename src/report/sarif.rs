//! SARIF 2.1.0 (OASIS), the format code-scanning UIs read.
//!
//! One run; `tool.driver.rules` is the whole rule table, and each result refers
//! to its rule by `ruleId` and `ruleIndex`. Locations are repository paths (see
//! [`super::place`]): the template named by helm's `# Source:` line when there
//! is one, at the template line that best matches the rendered line (a named
//! template's line when an `include` wrote it; see [`crate::template_lines`]),
//! else the input file at the field's line. The rendered file and line, the
//! object, the JSON pointer of the field and how the template line was found
//! (`templateMatch`) are kept in the result's `properties`.
//! Suppressed findings are listed with an `inSource` suppression, so a UI can
//! show them as dismissed.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::TextStyle;
use crate::check::Report;
use crate::finding::{Finding, Severity};
use crate::rules::RULES;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// `service-selects-no-pods` → `ServiceSelectsNoPods` (SARIF's rule `name`).
fn pascal(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// A path as a URI reference: `/` kept, everything outside RFC 3986's
/// unreserved and sub-delimiter characters percent-encoded; absolute paths
/// become `file://` URIs.
pub fn path_to_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 8);
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn rule_descriptor(r: &crate::rules::Rule) -> Value {
    json!({
        "id": r.id,
        "name": pascal(r.id),
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": r.summary},
        "help": {"text": r.fix, "markdown": r.docs},
        "defaultConfiguration": {"level": level(r.severity)},
        "properties": {"tags": ["kubernetes", "memcached"]},
    })
}

fn fingerprint(f: &Finding) -> String {
    let object = f.object.as_ref().map(|o| o.to_string()).unwrap_or_default();
    let key = format!(
        "{}\u{0}{}\u{0}{}\u{0}{}",
        f.rule,
        f.source_or_file(),
        object,
        f.location.path
    );
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes()))
}

fn region(line: Option<u32>, end_line: Option<u32>) -> Option<Value> {
    let line = line.filter(|l| *l > 0)?;
    let mut region = json!({"startLine": line});
    if let Some(end) = end_line.filter(|e| *e > line) {
        region["endLine"] = json!(end);
    }
    Some(region)
}

fn result(f: &Finding, style: &TextStyle) -> Value {
    let place = super::place(f, style);
    let mut text = match &f.help {
        Some(h) => format!("{}\n{h}", f.message),
        None => f.message.to_string(),
    };
    if let Some(note) = place.as_ref().and_then(|p| p.note.as_ref()) {
        text.push_str(&format!("\n({note})"));
    }
    let mut r = json!({
        "ruleId": f.rule,
        "level": level(f.severity),
        "message": {"text": text},
        "partialFingerprints": {"mclintFinding/v1": fingerprint(f)},
    });
    if let Some(i) = RULES.iter().position(|x| x.id == f.rule) {
        r["ruleIndex"] = json!(i);
    }
    let mut location = serde_json::Map::new();
    if let Some(p) = &place {
        let mut physical = json!({"artifactLocation": {"uri": path_to_uri(&p.path)}});
        if let Some(region) = region(p.line, p.end_line) {
            physical["region"] = region;
        }
        location.insert("physicalLocation".into(), physical);
    }
    if let Some(o) = &f.object {
        let mut logical = json!({"fullyQualifiedName": o.to_string(), "kind": "resource"});
        if let Some(name) = &o.name {
            logical["name"] = json!(name);
        }
        location.insert("logicalLocations".into(), json!([logical]));
    }
    if !location.is_empty() {
        r["locations"] = json!([Value::Object(location)]);
    }
    // With a template as the location, the rendered input (when it is a file) is
    // where the line is exact; with a named template, the line including it.
    let mut related = Vec::new();
    if f.location.source.is_some() && &*f.location.file != "<stdin>" && !f.location.file.is_empty()
    {
        let file = f.location.file.replace('\\', "/");
        let mut physical = json!({"artifactLocation": {"uri": path_to_uri(file.strip_prefix("./").unwrap_or(&file))}});
        if let Some(region) = region(f.location.line, None) {
            physical["region"] = region;
        }
        related.push(json!({
            "id": related.len() + 1,
            "physicalLocation": physical,
            "message": {"text": "the rendered manifest"},
        }));
    }
    if let Some((path, line)) = place.as_ref().and_then(|p| p.via.as_ref()) {
        related.push(json!({
            "id": related.len() + 1,
            "physicalLocation": {
                "artifactLocation": {"uri": path_to_uri(path)},
                "region": {"startLine": line},
            },
            "message": {"text": "the include that writes it"},
        }));
    }
    if !related.is_empty() {
        r["relatedLocations"] = Value::Array(related);
    }
    let mut props = serde_json::Map::new();
    props.insert("renderedFile".into(), json!(f.location.file));
    if let Some(line) = f.location.line {
        props.insert("renderedLine".into(), json!(line));
    }
    if let Some(d) = f.location.document {
        // Counted from 1, like lines and like the other formats.
        props.insert("document".into(), json!(d + 1));
    }
    if !f.location.path.is_empty() {
        props.insert("jsonPointer".into(), json!(f.location.path));
    }
    if let Some(o) = &f.object {
        props.insert("object".into(), json!(o.to_string()));
    }
    if f.location.source.is_some() {
        let how = f.template.as_ref().map_or("unresolved", |m| m.how.as_str());
        props.insert("templateMatch".into(), json!(how));
    }
    r["properties"] = Value::Object(props);
    if f.suppressed {
        r["suppressions"] =
            json!([{"kind": "inSource", "justification": "mclint.io/ignore annotation"}]);
    }
    r
}

/// The SARIF document with its results left empty: [`write`] writes them
/// one at a time.
fn document(report: &Report) -> Value {
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "mclint",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": RULES.iter().map(|r| rule_descriptor(r)).collect::<Vec<_>>(),
            }},
            "invocations": [{"executionSuccessful": true}],
            "results": [],
            "properties": {
                "documents": report.documents,
                "objects": report.objects,
                "configs": report.configs,
                "suppressed": report.suppressed,
            },
        }],
    })
}

pub fn write(report: &Report, style: &TextStyle, out: &mut dyn Write) -> io::Result<()> {
    // Keys in order, whatever order the maps were built in. The results are
    // made and written one at a time, not built into the document first (a
    // large stream's 25,000 results took over 300 MiB as one document).
    let mut doc = document(report);
    doc.sort_all_objects();
    let streamed = Streamed {
        doc: &doc,
        report,
        style,
    };
    serde_json::to_writer_pretty(&mut *out, &streamed)?;
    writeln!(out)
}

/// The document [`write`] writes: `doc`, whose run's empty `results` are
/// written from the report's findings as they are made.
struct Streamed<'a> {
    doc: &'a Value,
    report: &'a Report,
    style: &'a TextStyle,
}

/// A map of `value`'s entries, its `results` written by `streamed`.
struct Entries<'a>(&'a Value, &'a Streamed<'a>);

struct Runs<'a>(&'a Value, &'a Streamed<'a>);

struct Results<'a>(&'a Streamed<'a>);

impl serde::Serialize for Streamed<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Entries(self.doc, self).serialize(s)
    }
}

impl serde::Serialize for Entries<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let Some(entries) = self.0.as_object() else {
            return self.0.serialize(s);
        };
        let mut map = s.serialize_map(Some(entries.len()))?;
        for (k, v) in entries {
            match k.as_str() {
                "runs" => map.serialize_entry(k, &Runs(v, self.1))?,
                "results" => map.serialize_entry(k, &Results(self.1))?,
                _ => map.serialize_entry(k, v)?,
            }
        }
        map.end()
    }
}

impl serde::Serialize for Runs<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let runs = self.0.as_array().map_or(&[][..], Vec::as_slice);
        let mut seq = s.serialize_seq(Some(runs.len()))?;
        for run in runs {
            seq.serialize_element(&Entries(run, self.1))?;
        }
        seq.end()
    }
}

impl serde::Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.report.findings.len()))?;
        for f in &self.0.report.findings {
            let mut r = result(f, self.0.style);
            r.sort_all_objects();
            seq.serialize_element(&r)?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_uris() {
        assert_eq!(pascal("service-selects-no-pods"), "ServiceSelectsNoPods");
        assert_eq!(path_to_uri("charts/a b/x%.yaml"), "charts/a%20b/x%25.yaml");
        assert_eq!(path_to_uri("/tmp/r.yaml"), "file:///tmp/r.yaml");
        assert_eq!(path_to_uri("<stdin>"), "%3Cstdin%3E");
    }
}
