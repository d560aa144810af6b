//! `mclint values`: values files checked against a chart's `values.schema.json`
//! the way `helm install -f` checks them, with the line of each error in the
//! values file that set it and "did you mean" for misspelled keys.
//!
//! The values are merged as Helm merges them: the chart's `values.yaml`, then
//! each `-f` file in order (maps merge key by key, anything else is replaced
//! whole, a `null` removes the key). The merged values are validated, and each
//! error is placed in the last file that gave the value at fault.

use std::path::{Path, PathBuf};

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use crate::check::{Checked, Report};
use crate::finding::{Finding, Location, Severity};
use crate::manifest::{Input, parse_stream, read_inputs};
use crate::yaml::{Node, NodeKind, YamlIssueKind};

/// The finding ids `mclint values` reports (they are not `check` rules).
pub const SCHEMA: &str = "values-schema";
pub const YAML: &str = "values-yaml";

/// Largest schema file read, in bytes.
const MAX_SCHEMA_BYTES: u64 = 8 << 20;

/// What `mclint values` is asked to check.
#[derive(Debug, Clone)]
pub struct ValuesRequest {
    /// Values files in `-f` order (`-` is standard input).
    pub files: Vec<PathBuf>,
    /// The chart directory (holding `values.schema.json` and `values.yaml`).
    pub chart: PathBuf,
}

/// Why the values could not be checked at all.
#[derive(Debug, thiserror::Error)]
pub enum ValuesError {
    #[error(
        "{0}: no values.schema.json in the chart directory; nothing to check the values against"
    )]
    NoSchema(String),
    #[error("{file}: cannot read: {reason}")]
    Unreadable { file: String, reason: String },
    #[error("{file}: not a usable JSON schema: {reason}")]
    BadSchema { file: String, reason: String },
    #[error("{0}")]
    Input(#[from] crate::manifest::InputError),
}

/// One values file, parsed (its first YAML document, as Helm reads it).
struct ValuesFile {
    name: String,
    root: Option<Node>,
}

/// Checks the values; the report lists one finding per schema error.
pub fn run(req: &ValuesRequest, stdin: &mut dyn std::io::Read) -> Result<Report, ValuesError> {
    let schema_path = req.chart.join("values.schema.json");
    let shown_schema = schema_path.display().to_string();
    let schema = read_schema(&schema_path, &shown_schema)?;
    let validator = jsonschema::options()
        .build(&schema)
        .map_err(|e| ValuesError::BadSchema {
            file: shown_schema.clone(),
            reason: e.to_string(),
        })?;

    let mut report = Report::default();
    let mut files = Vec::new();
    let defaults = req.chart.join("values.yaml");
    if defaults.is_file() {
        files.push(read_values(&defaults, stdin, &mut report)?);
    }
    for f in &req.files {
        files.push(read_values(f, stdin, &mut report)?);
    }

    let mut merged = Value::Object(Default::default());
    for f in &files {
        if let Some(root) = &f.root {
            coalesce(&mut merged, root.to_json().to_serde());
        }
    }
    let mut seen = std::collections::HashSet::new();
    for error in validator.iter_errors(&merged) {
        for (pointer, message, suggestion) in describe(&error, &schema, &merged) {
            if !seen.insert((pointer.clone(), message.clone())) {
                continue;
            }
            let (file, line) = origin(&files, &pointer);
            let mut f = Finding::new(SCHEMA, Severity::Error, message);
            f.location = Location {
                file: file.into(),
                line,
                path: pointer.into(),
                ..Location::default()
            };
            f.help = Some(match suggestion {
                Some(s) => format!("Rename the key to `{s}`.").into(),
                None => "Change the value to what the chart's values.schema.json allows; `helm install` and `helm template` refuse these values.".into(),
            });
            report.findings.push(f);
        }
    }
    // Keys other charts use, which the schema lets through only so that the
    // chart can name the value to use instead (`x-use-instead`).
    let mut foreign = Vec::new();
    foreign_keys(&schema, &merged, "", &mut foreign);
    for (pointer, instead) in foreign {
        let (file, line) = origin(&files, &pointer);
        let mut f = Finding::new(
            SCHEMA,
            Severity::Error,
            format!(
                "`{}` is not a value of this chart (the chart refuses it); did you mean `{}`?",
                shown(&dotted(&pointer)),
                shown(&instead)
            ),
        );
        f.location = Location {
            file: file.into(),
            line,
            path: pointer.into(),
            ..Location::default()
        };
        f.help = Some(format!("Use `{}` instead.", shown(&instead)).into());
        report.findings.push(f);
    }
    report
        .findings
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Ok(report)
}

/// The keys of `values` whose schema names another value to use instead
/// (`"x-use-instead"`), as (JSON pointer, the value to use).
fn foreign_keys(schema: &Value, values: &Value, at: &str, out: &mut Vec<(String, String)>) {
    let (Some(props), Some(obj)) = (
        schema.get("properties").and_then(Value::as_object),
        values.as_object(),
    ) else {
        return;
    };
    for (k, v) in obj {
        let Some(sub) = props.get(k) else { continue };
        let pointer = format!("{at}/{}", escape(k));
        match sub.get("x-use-instead").and_then(Value::as_str) {
            Some(instead) if !v.is_null() => out.push((pointer, instead.to_string())),
            _ => foreign_keys(sub, v, &pointer, out),
        }
    }
}

fn read_schema(path: &Path, shown: &str) -> Result<Value, ValuesError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ValuesError::NoSchema(
            path.parent()
                .unwrap_or(Path::new("."))
                .display()
                .to_string(),
        ),
        _ => ValuesError::Unreadable {
            file: shown.to_string(),
            reason: e.to_string(),
        },
    })?;
    if meta.len() > MAX_SCHEMA_BYTES {
        return Err(ValuesError::BadSchema {
            file: shown.to_string(),
            reason: format!("larger than {} MiB", MAX_SCHEMA_BYTES >> 20),
        });
    }
    // The size above is 0 for a device or a pipe (a values.schema.json linked
    // to /dev/zero): bound the read itself too.
    let mut text = String::new();
    let read = std::fs::File::open(path).and_then(|f| {
        use std::io::Read;
        f.take(MAX_SCHEMA_BYTES + 1).read_to_string(&mut text)
    });
    read.map_err(|e| ValuesError::Unreadable {
        file: shown.to_string(),
        reason: e.to_string(),
    })?;
    if text.len() as u64 > MAX_SCHEMA_BYTES {
        return Err(ValuesError::BadSchema {
            file: shown.to_string(),
            reason: format!("larger than {} MiB", MAX_SCHEMA_BYTES >> 20),
        });
    }
    serde_json::from_str(&text).map_err(|e| ValuesError::BadSchema {
        file: shown.to_string(),
        reason: e.to_string(),
    })
}

/// Reads one values file; YAML errors become findings of `values-yaml`.
fn read_values(
    path: &Path,
    stdin: &mut dyn std::io::Read,
    report: &mut Report,
) -> Result<ValuesFile, ValuesError> {
    if path.is_dir() {
        return Err(ValuesError::Unreadable {
            file: path.display().to_string(),
            reason: "a directory, not a values file".into(),
        });
    }
    let (inputs, mut errors) = read_inputs(&[path.to_path_buf()], stdin);
    if let Some(e) = errors.pop() {
        return Err(e.into());
    }
    let input: Input = inputs
        .into_iter()
        .next()
        .ok_or_else(|| ValuesError::Unreadable {
            file: path.display().to_string(),
            reason: "nothing read".into(),
        })?;
    let name = input.name.to_string();
    report.documents += 1;
    report.checked.push(Checked {
        file: name.clone(),
        ..Checked::default()
    });
    let mut docs = parse_stream(&input).into_iter();
    let Some(doc) = docs.next() else {
        return Ok(ValuesFile { name, root: None });
    };
    let at = |line: Option<u32>, path: String| Location {
        file: name.as_str().into(),
        line,
        path: path.into(),
        ..Location::default()
    };
    if let Some(e) = doc.error() {
        let mut f = Finding::new(
            YAML,
            Severity::Error,
            format!("not valid YAML: {}", shown(&e.message)),
        );
        f.location = at(Some(e.line), String::new());
        f.help = Some("Fix the YAML syntax; Helm refuses the file.".into());
        report.findings.push(f);
    }
    for issue in doc.issues() {
        let mut f = Finding::new(YAML, Severity::Warning, shown(&issue.message));
        f.location = at(Some(issue.line), issue.path.clone());
        f.help = Some(match issue.kind {
            YamlIssueKind::DuplicateKey => {
                "Keep one of the keys: Helm silently uses the last.".into()
            }
            YamlIssueKind::NonScalarKey => "Use a plain string as the key.".into(),
            YamlIssueKind::FlowIndentation => {
                "Indent the continuation lines of a flow list or map deeper than its key: \
                 Helm reads it, stricter YAML readers do not."
                    .into()
            }
        });
        report.findings.push(f);
    }
    if let Some(extra) = docs.next() {
        let mut f = Finding::new(
            YAML,
            Severity::Warning,
            "the file holds more than one YAML document; Helm reads only the first",
        );
        f.location = at(Some(extra.line), String::new());
        f.help = Some("Keep one document per values file.".into());
        report.findings.push(f);
    }
    let root = doc.into_root().filter(|r| {
        if matches!(r.kind, NodeKind::Map(_) | NodeKind::Null) {
            return true;
        }
        let mut f = Finding::new(
            YAML,
            Severity::Error,
            format!("the values are a {}, not a mapping of keys", r.type_name()),
        );
        f.location = at(Some(r.line), String::new());
        f.help = Some("Write the values as `key: value` lines.".into());
        report.findings.push(f);
        false
    });
    Ok(ValuesFile { name, root })
}

/// Helm's merge of `over` onto `base`: maps merge, `null` removes, anything
/// else replaces.
fn coalesce(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                if v.is_null() {
                    b.shift_remove(&k);
                } else if let Some(existing) = b.get_mut(&k) {
                    coalesce(existing, v);
                } else {
                    b.insert(k, v);
                }
            }
        }
        (b, o) => *b = o,
    }
}

fn tokens(pointer: &str) -> Vec<String> {
    if pointer.is_empty() {
        return Vec::new();
    }
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// The node at `path` and the line of its key, when the whole path exists.
fn node_at<'a>(root: &'a Node, path: &[String]) -> Option<(&'a Node, u32)> {
    let mut node = root;
    let mut line = root.line;
    for token in path {
        match &node.kind {
            NodeKind::Map(entries) => {
                let e = entries.iter().rev().find(|e| &e.key == token)?;
                line = e.key_line;
                node = &e.value;
            }
            NodeKind::Seq(items) => {
                node = items.get(token.parse::<usize>().ok()?)?;
                line = node.line;
            }
            _ => return None,
        }
    }
    Some((node, line))
}

/// The file (and line) that gave the value at `pointer` in the merged values:
/// walking down, the last file holding each key; below a list or a scalar,
/// only the file that set it (Helm replaces those whole). A missing key is
/// placed at its deepest existing parent.
fn origin(files: &[ValuesFile], pointer: &str) -> (String, Option<u32>) {
    let path = tokens(pointer);
    let mut candidates: Vec<usize> = (0..files.len())
        .filter(|&i| files[i].root.is_some())
        .collect();
    let Some(&last) = candidates.last() else {
        return (
            files.last().map(|f| f.name.clone()).unwrap_or_default(),
            None,
        );
    };
    let mut best = (last, files[last].root.as_ref().map(|r| r.line));
    for depth in 1..=path.len() {
        let holders: Vec<(usize, bool, u32)> = candidates
            .iter()
            .filter_map(|&i| {
                let root = files[i].root.as_ref()?;
                let (node, line) = node_at(root, &path[..depth])?;
                Some((i, matches!(node.kind, NodeKind::Map(_)), line))
            })
            .collect();
        let Some(&(winner, is_map, line)) = holders.last() else {
            break;
        };
        best = (winner, Some(line));
        candidates = if is_map {
            // Maps merge with the maps after the last file that replaced the value.
            let from = holders.iter().rposition(|h| !h.1).map_or(0, |p| p + 1);
            holders[from..].iter().map(|h| h.0).collect()
        } else {
            vec![winner]
        };
    }
    (files[best.0].name.clone(), best.1)
}

/// The schema that applies at `pointer` (through `properties`, `items` and
/// `additionalProperties`).
fn schema_at<'a>(root: &'a Value, pointer: &str) -> Option<&'a Value> {
    let mut schema = root;
    for token in tokens(pointer) {
        schema = if let Some(p) = schema.get("properties").and_then(|p| p.get(&token)) {
            p
        } else if token.parse::<usize>().is_ok()
            && schema.get("items").is_some_and(Value::is_object)
        {
            &schema["items"]
        } else if schema
            .get("additionalProperties")
            .is_some_and(Value::is_object)
        {
            &schema["additionalProperties"]
        } else {
            return None;
        };
    }
    Some(schema)
}

/// `/cache/resources/limits` → `cache.resources.limits`; list items as `[2]`.
fn dotted(pointer: &str) -> String {
    let mut s = String::new();
    for t in tokens(pointer) {
        if t.parse::<usize>().is_ok() {
            s.push_str(&format!("[{t}]"));
        } else {
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(&shown(&t));
        }
    }
    if s.is_empty() { "the values".into() } else { s }
}

/// Text from the input, safe to print: control characters escaped, long text cut.
fn shown(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == 120 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn got(v: &Value) -> String {
    match v {
        Value::String(s) => format!("the string `{}`", shown(s)),
        Value::Null => "null".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("`{n}`"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// One error as (pointer, message, suggested key).
fn describe(
    error: &jsonschema::ValidationError<'_>,
    root: &Value,
    instance: &Value,
) -> Vec<(String, String, Option<String>)> {
    let pointer = error.instance_path().as_str().to_string();
    let schema = schema_at(root, &pointer);
    let field = dotted(&pointer);
    let value = instance.pointer(&pointer).unwrap_or(&Value::Null);
    let one = |message: String| vec![(pointer.clone(), message, None)];
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            let allowed: Vec<&str> = schema
                .and_then(|s| s.get("properties"))
                .and_then(Value::as_object)
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default();
            unexpected
                .iter()
                .map(|u| {
                    let near = crate::suggest::nearest(u, allowed.iter().copied());
                    let key_pointer = format!("{pointer}/{}", escape(u));
                    let message = match near {
                        Some(n) => {
                            format!("unknown key `{}` in {field}; did you mean `{n}`?", shown(u))
                        }
                        None => format!(
                            "unknown key `{}` in {field} (known: {})",
                            shown(u),
                            allowed.join(", ")
                        ),
                    };
                    (key_pointer, message, near.map(str::to_string))
                })
                .collect()
        }
        ValidationErrorKind::Required { property } => {
            let p = property
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| property.to_string());
            vec![(
                format!("{pointer}/{}", escape(&p)),
                format!("missing required key `{}` in {field}", shown(&p)),
                None,
            )]
        }
        ValidationErrorKind::Type { .. } => {
            let expected = match schema.and_then(|s| s.get("type")) {
                Some(Value::String(t)) if t.starts_with(['a', 'e', 'i', 'o', 'u']) => {
                    format!("an {t}")
                }
                Some(Value::String(t)) => format!("a {t}"),
                Some(Value::Array(list)) => list
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" or "),
                _ => "of another type".into(),
            };
            one(format!("`{field}` must be {expected}, got {}", got(value)))
        }
        ValidationErrorKind::Enum { options } => {
            let list = options
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|o| match o {
                            Value::String(s) => format!("`{}`", shown(s)),
                            other => format!("`{other}`"),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_else(|| options.to_string());
            let near = value.as_str().and_then(|v| {
                let names: Vec<&str> = options
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                crate::suggest::nearest(v, names).map(|n| format!("; did you mean `{n}`?"))
            });
            one(format!(
                "`{field}` must be one of {list}, got {}{}",
                got(value),
                near.unwrap_or_default()
            ))
        }
        _ => one(format!("`{field}`: {}", shown(&error.to_string()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> ValuesFile {
        ValuesFile {
            name: name.into(),
            root: crate::yaml::parse_document(text, 1).unwrap().root,
        }
    }

    #[test]
    fn coalesce_merges_maps_replaces_the_rest_and_null_removes() {
        let mut base = serde_json::json!({"a": {"x": 1, "y": [1, 2]}, "b": 1, "c": 2});
        coalesce(
            &mut base,
            serde_json::json!({"a": {"y": [3], "z": true}, "b": null, "d": {"e": 1}}),
        );
        assert_eq!(
            base,
            serde_json::json!({"a": {"x": 1, "y": [3], "z": true}, "c": 2, "d": {"e": 1}})
        );
    }

    #[test]
    fn origin_is_the_last_file_that_gave_the_value() {
        let files = [
            file(
                "chart",
                "cache:\n  memoryMiB: 64\n  args: [a, b, c]\nmode: cache\n",
            ),
            file("one.yaml", "cache:\n  args: [x]\n\n  threads: 2\n"),
            file("two.yaml", "mode: sidecar\ncache:\n  memoryMib: 1\n"),
        ];
        assert_eq!(
            origin(&files, "/cache/threads"),
            ("one.yaml".into(), Some(4))
        );
        assert_eq!(
            origin(&files, "/cache/memoryMib"),
            ("two.yaml".into(), Some(3))
        );
        assert_eq!(origin(&files, "/mode"), ("two.yaml".into(), Some(1)));
        assert_eq!(
            origin(&files, "/cache/memoryMiB"),
            ("chart".into(), Some(2))
        );
        // A list is replaced whole: its items come from the file that set it,
        // even when an earlier file's list was longer.
        assert_eq!(
            origin(&files, "/cache/args/2"),
            ("one.yaml".into(), Some(2))
        );
        // A missing key: its deepest existing parent.
        assert_eq!(
            origin(&files, "/cache/missing"),
            ("two.yaml".into(), Some(2))
        );
    }

    #[test]
    fn dotted_names() {
        assert_eq!(dotted("/cache/extraArgs/2"), "cache.extraArgs[2]");
        assert_eq!(dotted(""), "the values");
        assert_eq!(shown("a\u{1b}[31mb"), "a\\u{1b}[31mb");
    }
}
