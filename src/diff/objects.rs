//! The two sides of a diff: objects keyed by kind, namespace and name, each as
//! canonical text, and the routelib configs they (or `.lua` inputs) carry.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::DiffError;
use serde::Serialize;

use super::canon::canonical;
use crate::manifest::{InputKind, as_object, parse_stream, read_inputs};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObjKey {
    pub kind: String,
    /// As written; empty when the object names none.
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for ObjKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// A routelib config found on one side.
#[derive(Debug, Clone)]
pub struct LuaConfig {
    /// What pairs it with the other side: `ConfigMap ns/name proxy.lua`, or
    /// the `.lua` file's path below the input given.
    pub id: String,
    pub text: String,
    /// The path of a `.lua` file given directly (its `dofile`s open files
    /// under its directory, and `--lib` libraries load before it); `None`
    /// for a ConfigMap key.
    pub file: Option<String>,
}

/// One rendering.
#[derive(Debug, Default)]
pub struct Side {
    pub objects: BTreeMap<ObjKey, String>,
    pub configs: Vec<LuaConfig>,
    /// The ids of the configs given as `.lua` files (the others are ConfigMap
    /// keys, whose text the ConfigMap's object diff already shows).
    pub lua_files: Vec<String>,
    /// Things skipped, one line each (shown on standard error).
    pub warnings: Vec<String>,
}

/// Reads a rendering: a file, a directory or `-`. A YAML error is an error
/// (naming file, document and line): a diff of half a rendering would mislead.
pub fn load(path: &Path, stdin: &mut dyn std::io::Read) -> Result<Side, DiffError> {
    let (inputs, mut errors) = read_inputs(&[path.to_path_buf()], stdin);
    if !errors.is_empty() {
        return Err(errors.swap_remove(0).into());
    }
    let root: Option<PathBuf> = path.is_dir().then(|| path.to_path_buf());
    let mut side = Side::default();
    for input in &inputs {
        // Line starts of this input, found when first needed.
        let mut lines: Option<Vec<usize>> = None;
        if input.kind == InputKind::Lua {
            let id = match &root {
                Some(r) => Path::new(input.name.as_ref())
                    .strip_prefix(r)
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|_| input.name.to_string()),
                None => input.name.to_string(),
            };
            side.lua_files.push(id.clone());
            side.configs.push(LuaConfig {
                id,
                text: input.text.clone(),
                file: Some(input.name.to_string()),
            });
            continue;
        }
        for doc in parse_stream(input) {
            if let Some(e) = doc.error() {
                return Err(DiffError::Request(format!(
                    "{}: document {} (line {}): YAML error: {}",
                    doc.file,
                    doc.index + 1,
                    e.line,
                    e.message
                )));
            }
            let obj = match as_object(&doc) {
                None => continue,
                Some(Err(why)) => {
                    side.warnings.push(format!(
                        "{}: document {} (line {}) skipped: {why}",
                        doc.file,
                        doc.index + 1,
                        doc.line
                    ));
                    continue;
                }
                Some(Ok(o)) => o,
            };
            let key = ObjKey {
                kind: obj.kind.to_string(),
                namespace: obj.namespace.as_deref().unwrap_or_default().to_string(),
                name: obj.name.to_string(),
            };
            if obj.kind == "ConfigMap"
                && let Some(data) = obj.json.get("data").and_then(|d| d.as_object())
            {
                for (k, v) in data {
                    if let (true, Some(text)) = (k.ends_with(".lua"), v.as_str()) {
                        side.configs.push(LuaConfig {
                            id: format!("{key} {k}"),
                            text: text.to_string(),
                            file: None,
                        });
                    }
                }
            }
            let mut json = obj.json.clone();
            if let Some(root) = obj.root {
                string_maps_as_written(root, &mut json, &input.text, &mut lines);
            }
            let text = canonical(&json);
            if side.objects.contains_key(&key) {
                side.warnings.push(format!(
                    "{}: document {} (line {}): {key} appears twice; the first one is compared",
                    doc.file,
                    doc.index + 1,
                    doc.line
                ));
                continue;
            }
            side.objects.insert(key, text);
        }
    }
    Ok(side)
}

/// Annotations and labels are strings to Kubernetes, so an unquoted value
/// that YAML reads as a number or a boolean (`checksum/config: 0123e4`, a
/// sha256 that happens to be all digits) means the same as the quoted one:
/// such values are replaced by their text as written, so quoting is no change.
/// Walks every `metadata` mapping (the object's and its pod template's).
fn string_maps_as_written(
    node: &crate::yaml::Node,
    json: &mut crate::json::Value,
    text: &str,
    lines: &mut Option<Vec<usize>>,
) {
    use crate::yaml::NodeKind;
    match (&node.kind, json) {
        (NodeKind::Map(entries), crate::json::Value::Object(map)) => {
            for e in entries {
                let Some(v) = map.get_mut(&e.key) else {
                    continue;
                };
                if e.key == "metadata"
                    && let (NodeKind::Map(meta), crate::json::Value::Object(m)) =
                        (&e.value.kind, &mut *v)
                {
                    for field in meta
                        .iter()
                        .filter(|f| f.key == "annotations" || f.key == "labels")
                    {
                        let (NodeKind::Map(pairs), Some(crate::json::Value::Object(out))) =
                            (&field.value.kind, m.get_mut(&field.key))
                        else {
                            continue;
                        };
                        for pair in pairs {
                            if matches!(
                                pair.value.kind,
                                NodeKind::Int(_) | NodeKind::Float(_) | NodeKind::Bool(_)
                            ) && let Some(raw) =
                                plain_scalar_at(text, lines, pair.value.line, pair.value.col)
                            {
                                out.insert(
                                    pair.key.clone(),
                                    crate::json::Value::String(raw.into()),
                                );
                            }
                        }
                    }
                }
                string_maps_as_written(&e.value, v, text, lines);
            }
        }
        (NodeKind::Seq(items), crate::json::Value::Array(out)) => {
            for (n, v) in items.iter().zip(out.iter_mut()) {
                string_maps_as_written(n, v, text, lines);
            }
        }
        _ => {}
    }
}

/// The plain scalar written at `line`:`col` (1-based), up to a comment or
/// the end of the line.
fn plain_scalar_at(
    text: &str,
    lines: &mut Option<Vec<usize>>,
    line: u32,
    col: u32,
) -> Option<String> {
    let starts = lines.get_or_insert_with(|| {
        std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect()
    });
    let start = *starts.get(usize::try_from(line).ok()?.checked_sub(1)?)?;
    let rest = &text[start..];
    let l = rest.split('\n').next().unwrap_or_default();
    let from: usize = l
        .char_indices()
        .nth(usize::try_from(col).ok()?.checked_sub(1)?)
        .map(|(i, _)| i)?;
    let raw = l[from..].split(" #").next().unwrap_or_default().trim();
    (!raw.is_empty()).then(|| raw.to_string())
}

/// How one object changed.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectChange {
    #[serde(flatten)]
    pub key: ObjKey,
    /// Unified diff of the canonical texts (empty for added or removed objects).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub diff: String,
    pub lines_added: usize,
    pub lines_removed: usize,
}

#[derive(Debug, Default, Serialize)]
pub struct ObjectDiff {
    pub added: Vec<ObjectChange>,
    pub removed: Vec<ObjectChange>,
    pub changed: Vec<ObjectChange>,
    pub unchanged: usize,
}

pub fn compare(old: &Side, new: &Side, context: usize) -> ObjectDiff {
    let mut out = ObjectDiff::default();
    for (key, old_text) in &old.objects {
        match new.objects.get(key) {
            None => out.removed.push(ObjectChange {
                key: key.clone(),
                diff: String::new(),
                lines_added: 0,
                lines_removed: old_text.lines().count(),
            }),
            Some(new_text) if new_text == old_text => out.unchanged += 1,
            Some(new_text) => {
                let (diff, added, removed) = unified(
                    old_text,
                    new_text,
                    &format!("old: {key}"),
                    &format!("new: {key}"),
                    context,
                );
                out.changed.push(ObjectChange {
                    key: key.clone(),
                    diff,
                    lines_added: added,
                    lines_removed: removed,
                });
            }
        }
    }
    for (key, new_text) in &new.objects {
        if !old.objects.contains_key(key) {
            out.added.push(ObjectChange {
                key: key.clone(),
                diff: String::new(),
                lines_added: new_text.lines().count(),
                lines_removed: 0,
            });
        }
    }
    out
}

/// A unified diff of two texts with `context` lines around each change, and
/// the numbers of lines added and removed.
fn unified(
    old: &str,
    new: &str,
    old_header: &str,
    new_header: &str,
    context: usize,
) -> (String, usize, usize) {
    let d = similar::TextDiff::from_lines(old, new);
    let (mut added, mut removed) = (0, 0);
    for change in d.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Insert => added += 1,
            similar::ChangeTag::Delete => removed += 1,
            similar::ChangeTag::Equal => {}
        }
    }
    let diff = d
        .unified_diff()
        .context_radius(context)
        .header(old_header, new_header)
        .to_string();
    (diff, added, removed)
}

/// How the text of a proxy config given as a `.lua` file changed.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigTextChange {
    /// The config's id on each side (the same unless one file is compared
    /// with another).
    pub old: String,
    pub new: String,
    /// Unified diff of the texts as written.
    pub diff: String,
    pub lines_added: usize,
    pub lines_removed: usize,
}

/// Text diffs of the `.lua` files on both sides: one file on each side is the
/// same config whatever the names (as the key remapping pairs them), otherwise
/// files pair by id. Unchanged and unpaired files give nothing (the remapping
/// report lists added and removed configs).
pub fn compare_lua_files(old: &Side, new: &Side, context: usize) -> Vec<ConfigTextChange> {
    let files = |side: &Side| -> Vec<LuaConfig> {
        side.configs
            .iter()
            .filter(|c| side.lua_files.contains(&c.id))
            .cloned()
            .collect()
    };
    let (o, n) = (files(old), files(new));
    let pairs: Vec<(&LuaConfig, &LuaConfig)> = if o.len() == 1 && n.len() == 1 {
        vec![(&o[0], &n[0])]
    } else {
        o.iter()
            .filter_map(|a| n.iter().find(|b| b.id == a.id).map(|b| (a, b)))
            .collect()
    };
    pairs
        .into_iter()
        .filter(|(a, b)| a.text != b.text)
        .map(|(a, b)| {
            let (diff, lines_added, lines_removed) = unified(
                &a.text,
                &b.text,
                &format!("old: {}", a.id),
                &format!("new: {}", b.id),
                context,
            );
            ConfigTextChange {
                old: a.id.clone(),
                new: b.id.clone(),
                diff,
                lines_added,
                lines_removed,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(text: &str) -> Side {
        let dir = std::env::temp_dir().join(format!(
            "mclint-diff-objects-{}-{}",
            std::process::id(),
            text.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("r.yaml");
        std::fs::write(&f, text).unwrap();
        let s = load(&f, &mut std::io::empty()).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        s
    }

    #[test]
    fn key_order_and_quoting_are_not_changes() {
        let a = side(
            "kind: Service\nmetadata:\n  name: a\n  namespace: n\nspec:\n  port: 1\n  type: ClusterIP\n",
        );
        let b = side(
            "metadata: {namespace: n, name: \"a\"}\nspec: {type: 'ClusterIP', port: 1}\nkind: Service\n",
        );
        let d = compare(&a, &b, 3);
        assert_eq!(d.unchanged, 1);
        assert!(d.changed.is_empty() && d.added.is_empty() && d.removed.is_empty());
    }

    #[test]
    fn reports_added_removed_and_changed_objects() {
        let a = side("kind: A\nmetadata: {name: x}\nv: 1\n---\nkind: B\nmetadata: {name: gone}\n");
        let b = side("kind: A\nmetadata: {name: x}\nv: 2\n---\nkind: C\nmetadata: {name: new}\n");
        let d = compare(&a, &b, 3);
        assert_eq!(d.changed.len(), 1);
        assert!(
            d.changed[0].diff.contains("-v: 1\n+v: 2\n"),
            "{}",
            d.changed[0].diff
        );
        assert_eq!(
            (d.changed[0].lines_added, d.changed[0].lines_removed),
            (1, 1)
        );
        assert_eq!(d.removed[0].key.to_string(), "B gone");
        assert_eq!(d.added[0].key.to_string(), "C new");
    }

    #[test]
    fn finds_proxy_configs_in_configmaps() {
        let s = side(
            "kind: ConfigMap\nmetadata: {name: p, namespace: c}\ndata:\n  proxy.lua: |\n    pools {}\n  other: x\n",
        );
        assert_eq!(s.configs.len(), 1);
        assert_eq!(s.configs[0].id, "ConfigMap c/p proxy.lua");
        assert_eq!(s.configs[0].text, "pools {}\n");
    }

    #[test]
    fn a_yaml_error_names_file_document_and_line() {
        let dir = std::env::temp_dir().join(format!("mclint-diff-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("bad.yaml");
        std::fs::write(&f, "kind: A\n---\nkind: [\n").unwrap();
        let e = load(&f, &mut std::io::empty()).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(e.contains("bad.yaml: document 2 (line"), "{e}");
    }
}
