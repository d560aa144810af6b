//! The two sides of a diff: objects keyed by kind, namespace and name, each as
//! canonical text, and the routelib configs they (or `.lua` inputs) carry.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::bail;
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
pub fn load(path: &Path, stdin: &mut dyn std::io::Read) -> anyhow::Result<Side> {
    let (inputs, errors) = read_inputs(&[path.to_path_buf()], stdin);
    if let Some(e) = errors.first() {
        bail!("{e}");
    }
    let root: Option<PathBuf> = path.is_dir().then(|| path.to_path_buf());
    let mut side = Side::default();
    for input in &inputs {
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
            });
            continue;
        }
        for doc in parse_stream(input) {
            if let Some(e) = &doc.error {
                bail!(
                    "{}: document {} (line {}): YAML error: {}",
                    doc.file,
                    doc.index + 1,
                    e.line,
                    e.message
                );
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
                kind: obj.kind.clone(),
                namespace: obj.namespace.clone().unwrap_or_default(),
                name: obj.name.clone(),
            };
            if obj.kind == "ConfigMap"
                && let Some(data) = obj.json.get("data").and_then(|d| d.as_object())
            {
                for (k, v) in data {
                    if let (true, Some(text)) = (k.ends_with(".lua"), v.as_str()) {
                        side.configs.push(LuaConfig {
                            id: format!("{key} {k}"),
                            text: text.to_string(),
                        });
                    }
                }
            }
            let text = canonical(&obj.json);
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
