//! YAML text → a tree that keeps the line and column of every node.
//!
//! Built on `saphyr-parser` (the event parser of saphyr, the maintained successor
//! of yaml-rust). We build the tree ourselves from parser events so that we can:
//! keep a position for every node, report duplicate keys instead of silently
//! keeping one, bound alias expansion (an alias bomb must not expand without
//! limit) and bound nesting depth (no recursion runs away on hostile input).
//!
//! Plain scalars are resolved the way Kubernetes reads YAML (sigs.k8s.io/yaml on
//! top of go-yaml v2): YAML 1.1 booleans (`yes`, `on`, ...) are booleans, as
//! `kubectl` sees them.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::input::SkipTabs;
use saphyr_parser::{Event, Input, Parser, ScalarStyle, Span, StrInput};

/// Deepest nesting accepted. Kubernetes objects are far shallower; anything
/// deeper is hostile or broken input.
pub const MAX_DEPTH: usize = 256;
/// Most nodes that alias expansion may add to one document.
pub const MAX_ALIAS_NODES: usize = 100_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// 1-based line in the text that was parsed.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys are kept as strings (what JSON, and so Kubernetes, sees) with their own position.
    Map(Vec<MapEntry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct MapEntry {
    pub key: String,
    pub key_line: u32,
    pub value: Node,
}

/// Something wrong in a document that still produced a tree.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlIssue {
    pub kind: YamlIssueKind,
    pub line: u32,
    pub message: String,
    /// JSON pointer of the node concerned.
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YamlIssueKind {
    DuplicateKey,
    NonScalarKey,
    /// A flow collection (`[...]`, `{...}`) continued on lines indented no
    /// deeper than its key: go-yaml (kubectl, Helm) and PyYAML read it, the
    /// YAML spec and saphyr do not. Read as go-yaml reads it.
    FlowIndentation,
}

/// A document that could not be parsed at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub line: u32,
    pub col: u32,
    pub message: String,
}

/// The result of parsing one document's text.
#[derive(Debug)]
pub struct Parsed {
    /// `None` for a document with no content (comments only, or empty).
    pub root: Option<Node>,
    pub issues: Vec<YamlIssue>,
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .rev()
                .find(|e| e.key == key)
                .map(|e| &e.value),
            _ => None,
        }
    }

    /// Follows a JSON pointer (`/spec/template/spec/containers/0`). Returns the
    /// deepest node reached, so a pointer to a missing field still gives the line
    /// of its parent.
    pub fn locate(&self, pointer: &str) -> &Node {
        let mut node = self;
        if pointer.is_empty() {
            return node;
        }
        for raw in pointer.trim_start_matches('/').split('/') {
            let token = raw.replace("~1", "/").replace("~0", "~");
            let next = match &node.kind {
                NodeKind::Map(_) => node.get(&token),
                NodeKind::Seq(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        node
    }

    /// The line of the key that holds the node at `pointer` (the line a reader
    /// looks at). For a missing field, the line of its deepest existing parent.
    pub fn line_of(&self, pointer: &str) -> u32 {
        let mut node = self;
        let mut line = self.line;
        if pointer.is_empty() {
            return line;
        }
        for raw in pointer.trim_start_matches('/').split('/') {
            let token = raw.replace("~1", "/").replace("~0", "~");
            match &node.kind {
                NodeKind::Map(entries) => match entries.iter().rev().find(|e| e.key == token) {
                    Some(e) => {
                        line = e.key_line;
                        node = &e.value;
                    }
                    None => break,
                },
                NodeKind::Seq(items) => {
                    match token.parse::<usize>().ok().and_then(|i| items.get(i)) {
                        Some(n) => {
                            line = n.line;
                            node = n;
                        }
                        None => break,
                    }
                }
                _ => break,
            }
        }
        line
    }

    /// Converts to JSON, the data model Kubernetes validates.
    pub fn to_json(&self) -> crate::json::Value {
        use crate::json::{Str, Value};
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Int(i) => Value::from(*i),
            NodeKind::Float(f) => crate::json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(f.to_string().into())),
            NodeKind::Str(s) => Value::String(s.as_str().into()),
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(entries) => {
                // Keys in order (a repeated key keeps its last value, as
                // kubectl does).
                Value::Object(crate::json::Map::from_entries(
                    entries
                        .iter()
                        .map(|e| (Str::from(e.key.as_str()), e.value.to_json()))
                        .collect::<crate::json::Items<_>>(),
                ))
            }
        }
    }

    /// A short name for the node's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "boolean",
            NodeKind::Int(_) | NodeKind::Float(_) => "number",
            NodeKind::Str(_) => "string",
            NodeKind::Seq(_) => "list",
            NodeKind::Map(_) => "mapping",
        }
    }
}

/// Resolves a plain scalar as go-yaml v2 (and so Kubernetes) does. The
/// parser hands scalars over as owned strings: one that stays a string is
/// moved into the node, not copied.
fn resolve_plain(s: Cow<'_, str>) -> NodeKind {
    resolve_plain_value(&s).unwrap_or_else(|| NodeKind::Str(s.into_owned()))
}

/// What a plain scalar is when it is not a string.
fn resolve_plain_value(s: &str) -> Option<NodeKind> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Some(NodeKind::Null),
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => {
            return Some(NodeKind::Bool(true));
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n" | "N" => {
            return Some(NodeKind::Bool(false));
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Some(NodeKind::Float(f64::INFINITY));
        }
        "-.inf" | "-.Inf" | "-.INF" => return Some(NodeKind::Float(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return Some(NodeKind::Float(f64::NAN)),
        _ => {}
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
        return None;
    }
    let cleaned: Cow<str> = if s.contains('_') {
        Cow::Owned(s.replace('_', ""))
    } else {
        Cow::Borrowed(s)
    };
    let (neg, digits) = match cleaned.as_bytes()[0] {
        b'-' => (true, &cleaned[1..]),
        b'+' => (false, &cleaned[1..]),
        _ => (false, &cleaned[..]),
    };
    let int = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()
    } else if let Some(bin) = digits.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()
    } else if digits.len() > 1
        && digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        i64::from_str_radix(&digits[1..], 8).ok()
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse::<i64>().ok()
    } else {
        None
    };
    if let Some(i) = int {
        return Some(NodeKind::Int(if neg { -i } else { i }));
    }
    let is_float = !digits.is_empty()
        && digits.bytes().any(|b| b.is_ascii_digit())
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if is_float && let Ok(f) = cleaned.parse::<f64>() {
        return Some(NodeKind::Float(f));
    }
    None
}

fn scalar_kind(
    value: Cow<'_, str>,
    style: ScalarStyle,
    tag: Option<&saphyr_parser::Tag>,
) -> NodeKind {
    if let Some(tag) = tag {
        if (tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!")
            && matches!(tag.suffix.as_str(), "int" | "float" | "bool" | "null")
        {
            return resolve_plain(value);
        }
        return NodeKind::Str(value.into_owned());
    }
    match style {
        ScalarStyle::Plain => resolve_plain(value),
        _ => NodeKind::Str(value.into_owned()),
    }
}

enum Frame {
    Seq {
        node_line: u32,
        node_col: u32,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        node_line: u32,
        node_col: u32,
        anchor: usize,
        entries: Vec<MapEntry>,
        /// A key read, waiting for its value: the key, its line and, when
        /// the key was given before, the index of its entry.
        pending_key: Option<(String, u32, Option<usize>)>,
        /// The keys, as well as `entries` and in its terms: see [`Keys`].
        keys: Keys,
    },
}

/// Entries a mapping has before its keys are looked up through a hash map:
/// below this, comparing the key to each entry's is cheaper than hashing it.
const LINEAR_KEYS: usize = 16;

/// How a mapping under construction finds a key's entry (duplicates replace
/// the entry in place, so keys in `entries` are unique).
#[derive(Default)]
struct Keys {
    /// Key → index of its entry; built once the mapping has [`LINEAR_KEYS`]
    /// entries (a linear search per key would be quadratic on big ones).
    map: Option<HashMap<String, usize>>,
    /// (index of an entry, line of its key's first occurrence) for the keys
    /// given more than once: the entry holds the line of the last one.
    firsts: Vec<(usize, u32)>,
}

impl Keys {
    fn find(&self, entries: &[MapEntry], key: &str) -> Option<usize> {
        match &self.map {
            Some(map) => map.get(key).copied(),
            None => entries.iter().position(|e| e.key == key),
        }
    }

    /// The line `key` (of entry `index`) was first given on.
    fn first_line(&self, entries: &[MapEntry], index: usize) -> u32 {
        self.firsts
            .iter()
            .find(|(i, _)| *i == index)
            .map_or(entries[index].key_line, |&(_, l)| l)
    }

    /// Records that the entry at `index` is given again (before its key line
    /// is replaced).
    fn given_again(&mut self, entries: &[MapEntry], index: usize) {
        if !self.firsts.iter().any(|(i, _)| *i == index) {
            self.firsts.push((index, entries[index].key_line));
        }
    }

    /// `entries` has just grown by one entry (the last).
    fn pushed(&mut self, entries: &[MapEntry]) {
        match &mut self.map {
            Some(map) => {
                let i = entries.len() - 1;
                map.insert(entries[i].key.clone(), i);
            }
            None if entries.len() >= LINEAR_KEYS => {
                let map = entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (e.key.clone(), i))
                    .collect();
                self.map = Some(map);
            }
            None => {}
        }
    }
}

struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    alias_nodes: usize,
    root: Option<Node>,
    issues: Vec<YamlIssue>,
    /// Nesting level reached after `MAX_DEPTH`: deeper events are counted, not built.
    skipped_depth: usize,
    line_offset: u32,
}

fn count_nodes(node: &Node) -> usize {
    // Iterative: the tree is bounded in depth anyway, but counting must not recurse on
    // hostile input either.
    let mut n = 0;
    let mut todo = vec![node];
    while let Some(x) = todo.pop() {
        n += 1;
        match &x.kind {
            NodeKind::Seq(items) => todo.extend(items.iter()),
            NodeKind::Map(entries) => todo.extend(entries.iter().map(|e| &e.value)),
            _ => {}
        }
    }
    n
}

/// `text` for a message: control characters escaped, at most 40 characters.
fn shown(text: &str) -> String {
    let escaped: String = text.chars().flat_map(char::escape_debug).collect();
    if escaped.chars().count() > 40 {
        let cut: String = escaped.chars().take(39).collect();
        format!("{cut}…")
    } else {
        escaped
    }
}

/// A value in a few words: `` `400Mi` ``, `a mapping of 2 keys`, `a list of 3 items`.
fn summary(node: &Node) -> String {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    match &node.kind {
        NodeKind::Null => "null".into(),
        NodeKind::Bool(b) => format!("`{b}`"),
        NodeKind::Int(i) => format!("`{i}`"),
        NodeKind::Float(f) => format!("`{f}`"),
        NodeKind::Str(s) => format!("`{}`", shown(s)),
        NodeKind::Seq(items) => format!("a list of {} item{}", items.len(), plural(items.len())),
        NodeKind::Map(e) => format!("a mapping of {} key{}", e.len(), plural(e.len())),
    }
}

impl Builder {
    fn path(&self) -> String {
        let mut p = String::new();
        for f in &self.stack {
            match f {
                Frame::Seq { items, .. } => {
                    p.push('/');
                    p.push_str(&items.len().to_string());
                }
                Frame::Map { pending_key, .. } => {
                    if let Some((k, _, _)) = pending_key {
                        p.push('/');
                        p.push_str(&k.replace('~', "~0").replace('/', "~1"));
                    }
                }
            }
        }
        p
    }

    /// Places a finished node into its parent, or makes it the root.
    fn push(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                keys,
                ..
            }) if pending_key.is_some() => {
                let (key, key_line, given) = pending_key.take().expect("matched a pending key");
                match given {
                    // Later duplicates replace earlier ones, as most YAML readers do.
                    Some(i) => {
                        let existing = &mut entries[i];
                        existing.value = node;
                        existing.key_line = key_line;
                    }
                    None => {
                        entries.push(MapEntry {
                            key,
                            key_line,
                            value: node,
                        });
                        keys.pushed(entries);
                    }
                }
            }
            Some(Frame::Map { .. }) => self.push_key(node),
        }
    }

    /// A mapping's key read (the top frame is a mapping waiting for one).
    fn push_key(&mut self, node: Node) {
        let line = node.line;
        let (key, complex) = match node.kind {
            NodeKind::Str(s) => (s, false),
            NodeKind::Int(i) => (i.to_string(), false),
            NodeKind::Bool(b) => (b.to_string(), false),
            NodeKind::Float(f) => (f.to_string(), false),
            NodeKind::Null => ("null".to_string(), false),
            NodeKind::Seq(_) | NodeKind::Map(_) => (format!("<complex key at line {line}>"), true),
        };
        let Some(Frame::Map { entries, keys, .. }) = self.stack.last() else {
            unreachable!("push_key is called with a mapping on top")
        };
        let given = keys.find(entries, &key);
        // The path names the node in an issue only (a complex or repeated
        // key): built then, not for every key.
        if complex {
            let path = self.path();
            self.issues.push(YamlIssue {
                kind: YamlIssueKind::NonScalarKey,
                line,
                message:
                    "a mapping key is itself a list or mapping; Kubernetes accepts only string keys"
                        .into(),
                path,
            });
        }
        if let Some(index) = given {
            let path = self.path();
            let Some(Frame::Map { entries, keys, .. }) = self.stack.last_mut() else {
                unreachable!("push_key is called with a mapping on top")
            };
            let first = keys.first_line(entries, index);
            // The value that loses is the one the mapping holds now (the
            // latest earlier occurrence).
            let e = &entries[index];
            let (lost_line, lost) = (e.key_line, summary(&e.value));
            keys.given_again(entries, index);
            self.issues.push(YamlIssue {
                kind: YamlIssueKind::DuplicateKey,
                line,
                message: format!(
                    "key `{}` appears again (first at line {first}); kubectl and Helm keep the last value silently, so this one (line {line}) wins and {lost} from line {lost_line} is lost",
                    shown(&key),
                ),
                path: format!("{}/{}", path, key.replace('~', "~0").replace('/', "~1")),
            });
        }
        let Some(Frame::Map { pending_key, .. }) = self.stack.last_mut() else {
            unreachable!("push_key is called with a mapping on top")
        };
        *pending_key = Some((key, line, given));
    }

    fn register_anchor(&mut self, anchor: usize, node: &Node) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
    }

    fn on_event(&mut self, ev: Event, span: Span) -> Result<(), YamlError> {
        let line = span.start.line() as u32 + self.line_offset;
        let col = span.start.col() as u32 + 1;
        if self.skipped_depth > 0 {
            match ev {
                Event::SequenceStart(..) | Event::MappingStart(..) => self.skipped_depth += 1,
                Event::SequenceEnd | Event::MappingEnd => self.skipped_depth -= 1,
                _ => {}
            }
            return Ok(());
        }
        match ev {
            Event::Scalar(value, style, anchor, tag) => {
                let node = Node {
                    line,
                    col,
                    kind: scalar_kind(value, style, tag.as_deref()),
                };
                self.register_anchor(anchor, &node);
                self.push(node);
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id).cloned() else {
                    return Err(YamlError {
                        line,
                        col,
                        message: "alias refers to an unknown anchor".into(),
                    });
                };
                self.alias_nodes += count_nodes(&target);
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err(YamlError {
                        line,
                        col,
                        message: format!(
                            "aliases expand to more than {MAX_ALIAS_NODES} nodes (an alias bomb?); refusing to expand further"
                        ),
                    });
                }
                let mut node = target;
                node.line = line;
                node.col = col;
                self.push(node);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(YamlError {
                        line,
                        col,
                        message: format!("nesting deeper than {MAX_DEPTH} levels"),
                    });
                }
                let frame = if matches!(ev, Event::SequenceStart(..)) {
                    Frame::Seq {
                        node_line: line,
                        node_col: col,
                        anchor,
                        items: Vec::new(),
                    }
                } else {
                    Frame::Map {
                        node_line: line,
                        node_col: col,
                        anchor,
                        entries: Vec::new(),
                        pending_key: None,
                        keys: Keys::default(),
                    }
                };
                self.stack.push(frame);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Frame::Seq {
                        node_line,
                        node_col,
                        anchor,
                        items,
                    }) => (
                        anchor,
                        Node {
                            line: node_line,
                            col: node_col,
                            kind: NodeKind::Seq(items),
                        },
                    ),
                    Some(Frame::Map {
                        node_line,
                        node_col,
                        anchor,
                        entries,
                        ..
                    }) => (
                        anchor,
                        Node {
                            line: node_line,
                            col: node_col,
                            kind: NodeKind::Map(entries),
                        },
                    ),
                    None => return Ok(()),
                };
                self.register_anchor(node.0, &node.1);
                self.push(node.1);
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd => {}
        }
        Ok(())
    }
}

/// The first character YAML does not allow in a stream (YAML 1.2, 5.1: control
/// characters other than tab, line feed and carriage return; DEL; C1 controls
/// but NEL; U+FFFE and U+FFFF). The parser would take them as text; go-yaml, and
/// so kubectl, refuses them.
fn unprintable(text: &str) -> Option<YamlError> {
    let refused = |c: char| {
        let u = c as u32;
        (u < 0x20 && !matches!(c, '\t' | '\n' | '\r'))
            || u == 0x7f
            || ((0x80..=0x9f).contains(&u) && u != 0x85)
            || u == 0xfffe
            || u == 0xffff
    };
    // Only a character starting with one of these bytes can be refused: a
    // C0 control but tab, LF and CR; DEL; 0xC2, the lead byte of U+0080 to
    // U+00BF (the C1 controls); 0xEF, that of U+F000 to U+FFFF. A byte scan
    // finds them; each is then decoded and judged. (Each is the first byte of
    // a character: UTF-8 continuation bytes are 0x80 to 0xBF.)
    const SUSPECT: [bool; 256] = {
        let mut t = [false; 256];
        let mut b = 0;
        while b < 0x20 {
            t[b] = !matches!(b, 0x09 | 0x0a | 0x0d);
            b += 1;
        }
        t[0x7f] = true;
        t[0xc2] = true;
        t[0xef] = true;
        t
    };
    let (offset, c) = text
        .bytes()
        .enumerate()
        .filter(|&(_, b)| SUSPECT[b as usize])
        .filter_map(|(i, _)| text[i..].chars().next().map(|c| (i, c)))
        .find(|&(_, c)| refused(c))?;
    let before = &text[..offset];
    let line = before.matches('\n').count() as u32 + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
    Some(YamlError {
        line,
        col,
        message: format!(
            "control character U+{:04X} is not allowed in YAML",
            c as u32
        ),
    })
}

/// Parses the text of ONE document (the caller splits streams on `---`).
/// `first_line` is the line number of the text's first line in its file.
pub fn parse_document(text: &str, first_line: u32) -> Result<Parsed, YamlError> {
    match parse_strict(text, first_line) {
        Ok(parsed) => Ok(parsed),
        Err(e) => {
            // go-yaml's leniency: a flow collection continued at its key's
            // indentation. Indent those lines and try again; keep the
            // original error when that does not help.
            let Some((relaxed, lines)) = relax_flow_indentation(text) else {
                return Err(e);
            };
            let Ok(mut parsed) = parse_strict(&relaxed, first_line) else {
                return Err(e);
            };
            let offset = first_line.saturating_sub(1);
            for (line, key_line) in lines {
                parsed.issues.push(YamlIssue {
                    kind: YamlIssueKind::FlowIndentation,
                    line: line + offset,
                    message: format!(
                        "this line continues the flow collection opened on line {} but is not indented deeper than its key; kubectl and Helm (go-yaml) accept it, stricter YAML parsers reject it",
                        key_line + offset
                    ),
                    path: String::new(),
                });
            }
            Ok(parsed)
        }
    }
}

/// Most lines `relax_flow_indentation` looks at (bounded work on hostile input).
const MAX_RELAX_LINES: usize = 100_000;

/// Re-indents the continuation lines of flow collections (`[`/`{` opened as a
/// value) that sit at or left of their key's column, one column deeper than
/// the key. Returns the new text and, per changed line, `(line, line of the
/// key)` (1-based, in `text`), or `None` when nothing changes. Lines are never
/// added or removed, so every line number stays right.
fn relax_flow_indentation(text: &str) -> Option<(String, Vec<(u32, u32)>)> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut changed = Vec::new();
    let mut depth = 0usize;
    let mut key_col = 0usize;
    let mut key_line = 0u32;
    let mut quote: Option<char> = None;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i >= MAX_RELAX_LINES {
            return None;
        }
        let number = i as u32 + 1;
        let indent = line.len() - line.trim_start_matches(' ').len();
        let blank = line.trim().is_empty() || line.trim_start().starts_with('#');
        if depth > 0 && quote.is_none() && !blank && indent <= key_col {
            out.extend(std::iter::repeat_n(' ', key_col + 1 - indent));
            changed.push((number, key_line));
        }
        out.push_str(line);
        let chars: Vec<char> = line.chars().collect();
        let mut j = 0;
        if depth == 0 && quote.is_none() {
            let Some((col, start)) = flow_start(&chars, indent) else {
                continue;
            };
            key_col = col;
            key_line = number;
            j = start;
        }
        while j < chars.len() {
            let c = chars[j];
            match quote {
                Some('"') if c == '\\' => j += 1,
                Some('\'') if c == '\'' && chars.get(j + 1) == Some(&'\'') => j += 1,
                Some(open) if c == open => quote = None,
                Some(_) => {}
                None => match c {
                    '"' | '\'' => quote = Some(c),
                    '#' if j == 0 || chars[j - 1] == ' ' => break,
                    '[' | '{' => depth += 1,
                    ']' | '}' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                },
            }
            j += 1;
        }
    }
    if changed.is_empty() {
        None
    } else {
        Some((out, changed))
    }
}

/// In a block-context line, where a flow collection opens as a value (right
/// after `- ` or `key: `): `(column of the key or item, index of the bracket)`.
fn flow_start(chars: &[char], indent: usize) -> Option<(usize, usize)> {
    let opener = |c: Option<&char>| matches!(c, Some('[') | Some('{'));
    let mut k = indent;
    while chars.get(k) == Some(&'-') && chars.get(k + 1) == Some(&' ') {
        k += 2;
        while chars.get(k) == Some(&' ') {
            k += 1;
        }
    }
    let col = k;
    if opener(chars.get(k)) {
        return Some((col, k));
    }
    let mut quote: Option<char> = None;
    while k < chars.len() {
        let c = chars[k];
        match quote {
            Some(open) if c == open => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' => return None,
            None if c == ':' && chars.get(k + 1) == Some(&' ') => {
                let mut v = k + 1;
                while chars.get(v) == Some(&' ') {
                    v += 1;
                }
                return opener(chars.get(v)).then_some((col, v));
            }
            None => {}
        }
        k += 1;
    }
    None
}

/// The parser's `&str` input with a shorter read-ahead window.
///
/// The scanner sizes its work by the input's `bufmaxlen`: a plain scalar's
/// string is allocated with room for 32 bytes and then grown to hold one
/// window more (`StrInput` says 128), so every plain scalar, however short,
/// was reallocated once. A `&str` has all its text at hand whatever the
/// window: with one of [`READ_AHEAD`] characters a short scalar stays in its
/// first allocation and a long one grows as any string does. The scanner
/// reads the same characters either way; every other call is `StrInput`'s.
struct ShortWindow<'a>(StrInput<'a>);

/// The window [`ShortWindow`] gives: under the 32 bytes the scanner first
/// allocates for a scalar less the 4 of its first character.
const READ_AHEAD: usize = 24;

impl Input for ShortWindow<'_> {
    #[inline]
    fn lookahead(&mut self, count: usize) {
        self.0.lookahead(count);
    }
    #[inline]
    fn buflen(&self) -> usize {
        self.0.buflen()
    }
    #[inline]
    fn bufmaxlen(&self) -> usize {
        READ_AHEAD
    }
    #[inline]
    fn buf_is_empty(&self) -> bool {
        self.0.buf_is_empty()
    }
    #[inline]
    fn raw_read_ch(&mut self) -> char {
        self.0.raw_read_ch()
    }
    #[inline]
    fn raw_read_non_breakz_ch(&mut self) -> Option<char> {
        self.0.raw_read_non_breakz_ch()
    }
    #[inline]
    fn skip(&mut self) {
        self.0.skip();
    }
    #[inline]
    fn skip_n(&mut self, count: usize) {
        self.0.skip_n(count);
    }
    #[inline]
    fn peek(&self) -> char {
        self.0.peek()
    }
    #[inline]
    fn peek_nth(&self, n: usize) -> char {
        self.0.peek_nth(n)
    }
    #[inline]
    fn look_ch(&mut self) -> char {
        self.0.look_ch()
    }
    #[inline]
    fn next_char_is(&self, c: char) -> bool {
        self.0.next_char_is(c)
    }
    #[inline]
    fn nth_char_is(&self, n: usize, c: char) -> bool {
        self.0.nth_char_is(n, c)
    }
    #[inline]
    fn next_2_are(&self, c1: char, c2: char) -> bool {
        self.0.next_2_are(c1, c2)
    }
    #[inline]
    fn next_3_are(&self, c1: char, c2: char, c3: char) -> bool {
        self.0.next_3_are(c1, c2, c3)
    }
    #[inline]
    fn next_is_document_indicator(&self) -> bool {
        self.0.next_is_document_indicator()
    }
    #[inline]
    fn next_is_document_start(&self) -> bool {
        self.0.next_is_document_start()
    }
    #[inline]
    fn next_is_document_end(&self) -> bool {
        self.0.next_is_document_end()
    }
    #[inline]
    fn skip_ws_to_eol(&mut self, skip_tabs: SkipTabs) -> (usize, Result<SkipTabs, &'static str>) {
        self.0.skip_ws_to_eol(skip_tabs)
    }
    #[inline]
    fn next_can_be_plain_scalar(&self, in_flow: bool) -> bool {
        self.0.next_can_be_plain_scalar(in_flow)
    }
    #[inline]
    fn next_is_blank_or_break(&self) -> bool {
        self.0.next_is_blank_or_break()
    }
    #[inline]
    fn next_is_blank_or_breakz(&self) -> bool {
        self.0.next_is_blank_or_breakz()
    }
    #[inline]
    fn next_is_blank(&self) -> bool {
        self.0.next_is_blank()
    }
    #[inline]
    fn next_is_break(&self) -> bool {
        self.0.next_is_break()
    }
    #[inline]
    fn next_is_breakz(&self) -> bool {
        self.0.next_is_breakz()
    }
    #[inline]
    fn next_is_z(&self) -> bool {
        self.0.next_is_z()
    }
    #[inline]
    fn next_is_flow(&self) -> bool {
        self.0.next_is_flow()
    }
    #[inline]
    fn next_is_digit(&self) -> bool {
        self.0.next_is_digit()
    }
    #[inline]
    fn next_is_alpha(&self) -> bool {
        self.0.next_is_alpha()
    }
    #[inline]
    fn skip_while_non_breakz(&mut self) -> usize {
        self.0.skip_while_non_breakz()
    }
    #[inline]
    fn skip_while_blank(&mut self) -> usize {
        self.0.skip_while_blank()
    }
    #[inline]
    fn fetch_while_is_alpha(&mut self, out: &mut String) -> usize {
        self.0.fetch_while_is_alpha(out)
    }
}

fn parse_strict(text: &str, first_line: u32) -> Result<Parsed, YamlError> {
    let mut builder = Builder {
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_nodes: 0,
        root: None,
        issues: Vec::new(),
        skipped_depth: 0,
        line_offset: first_line.saturating_sub(1),
    };
    if let Some(e) = unprintable(text) {
        return Err(YamlError {
            line: e.line + builder.line_offset,
            ..e
        });
    }
    let mut parser = Parser::new(ShortWindow(StrInput::new(text)));
    let mut documents = 0;
    loop {
        match parser.next_event() {
            None => break,
            Some(Err(e)) => {
                let m = e.marker();
                let mut line = m.line() as u32;
                let mut col = m.col() as u32 + 1;
                if e.info().contains("tab") {
                    // The scanner marks where the token began; point at the line with the tab.
                    if let Some((i, l)) = text
                        .lines()
                        .enumerate()
                        .skip(m.line().saturating_sub(1))
                        .find(|(_, l)| l.contains('\t'))
                    {
                        line = i as u32 + 1;
                        col = l.find('\t').unwrap_or(0) as u32 + 1;
                    }
                }
                let message = if e.info().contains("recursion limit") {
                    format!("nesting too deep ({})", e.info())
                } else {
                    e.info().to_string()
                };
                return Err(YamlError {
                    line: line + builder.line_offset,
                    col,
                    message,
                });
            }
            Some(Ok((ev, span))) => {
                if let Event::DocumentStart(_) = ev {
                    documents += 1;
                    if documents > 1 {
                        return Err(YamlError {
                            line: span.start.line() as u32 + builder.line_offset,
                            col: 1,
                            message:
                                "a second document starts here without a `---` line of its own"
                                    .into(),
                        });
                    }
                }
                if let Event::StreamEnd = ev {
                    break;
                }
                builder.on_event(ev, span)?;
            }
        }
    }
    Ok(Parsed {
        root: builder.root,
        issues: builder.issues,
    })
}

/// Where each node of a document starts, without the tree: for every node, a
/// hash of its path and the line [`Node::line_of`] gives for it. About 12
/// bytes a node where the tree takes several times that, so a document's
/// tree can go once its JSON copy and this index are built.
///
/// Lookups answer exactly as [`Node::line_of`] on the tree did (the line of
/// the key holding the node, or of the deepest existing parent), save for a
/// collision of 64-bit keyed hashes, which could only move a line.
#[derive(Debug, Clone, PartialEq)]
pub struct LineIndex {
    /// The root's line and the sorted path hashes with the line of each,
    /// in one allocation: see [`Entries`].
    entries: Entries,
}

/// The root line, path hashes and lines of a [`LineIndex`]: the root's line
/// and `base` (the first line of an entry) inline, then one block of words
/// (a layout word, the hashes, then each line as an offset from `base`).
/// Documents of one shape (the same paths, laid out on the same lines from
/// their first) have equal blocks, and what a large stream keeps holds
/// such a block once ([`LineIndex::share`]).
///
/// An index kept to the end of a run (see [`LineIndex::retain`]) is stored
/// narrow when it can be without losing anything: hashes cut to their low
/// 32 bits when no two of its own collide there, offsets in 16 bits (two a
/// word) when the document spans fewer than 65,536 lines. Half the bytes a
/// node; a path that is not in the index then finds a line by chance once
/// in 2^32 / n lookups instead of 2^64 / n.
#[derive(Debug, Clone, PartialEq)]
struct Entries {
    root: u32,
    base: u32,
    words: crate::json::Items<u32>,
}

/// Words before the entries: the layout.
const HEADER: usize = 1;
/// Layouts: each hash in two words (low half first) and each offset in one.
const WIDE: u32 = 0;
/// Each hash in one word, each offset in half a word; the entries are an
/// even or an odd number (the length of the block tells the rest).
const NARROW_EVEN: u32 = 1;
const NARROW_ODD: u32 = 2;

impl Entries {
    /// From (hash, line) pairs sorted by hash, without repeated hashes.
    fn wide(root: u32, pairs: &[(u64, u32)]) -> Entries {
        let base = pairs.iter().map(|p| p.1).min().unwrap_or(0);
        let mut words = Vec::with_capacity(HEADER + 3 * pairs.len());
        words.push(WIDE);
        for &(h, _) in pairs {
            words.extend([h as u32, (h >> 32) as u32]);
        }
        words.extend(pairs.iter().map(|p| p.1 - base));
        Entries {
            root,
            base,
            words: words.into(),
        }
    }

    /// As [`Entries::wide`], narrow when nothing is lost.
    fn compact(root: u32, pairs: &[(u64, u32)]) -> Entries {
        let base = pairs.iter().map(|p| p.1).min().unwrap_or(0);
        if pairs.iter().any(|p| p.1 - base > u32::from(u16::MAX)) {
            return Entries::wide(root, pairs);
        }
        // Sorted by the full hash, the low halves are not sorted: sort them
        // again and look for equal neighbours.
        let mut narrow: Vec<(u32, u16)> = pairs
            .iter()
            .map(|&(h, l)| (h as u32, (l - base) as u16))
            .collect();
        narrow.sort_unstable_by_key(|p| p.0);
        if narrow.windows(2).any(|w| w[0].0 == w[1].0) {
            return Entries::wide(root, pairs);
        }
        let n = narrow.len();
        let layout = if n.is_multiple_of(2) {
            NARROW_EVEN
        } else {
            NARROW_ODD
        };
        let mut words = Vec::with_capacity(HEADER + n + n.div_ceil(2));
        words.push(layout);
        words.extend(narrow.iter().map(|p| p.0));
        words.extend(
            narrow
                .chunks(2)
                .map(|c| u32::from(c[0].1) | c.get(1).map_or(0, |p| u32::from(p.1) << 16)),
        );
        Entries {
            root,
            base,
            words: words.into(),
        }
    }

    fn root(&self) -> u32 {
        self.root
    }

    fn is_narrow(&self) -> bool {
        self.words[0] != WIDE
    }

    /// The base of the index's lines.
    #[cfg(test)]
    fn base(&self) -> u32 {
        self.base
    }

    fn len(&self) -> usize {
        let rest = self.words.len() - HEADER;
        match self.words[0] {
            WIDE => rest / 3,
            // n + ceil(n / 2) words.
            NARROW_EVEN => rest * 2 / 3,
            _ => (rest * 2 - 1) / 3,
        }
    }

    fn get(&self, h: u64) -> Option<u32> {
        let n = self.len();
        let w = &self.words[HEADER..];
        let offset = if self.is_narrow() {
            let key = h as u32;
            let i = search(n, |i| u64::from(w[i]), u64::from(key))?;
            let pair = w[n + i / 2];
            if i % 2 == 0 {
                pair & 0xFFFF
            } else {
                pair >> 16
            }
        } else {
            let i = search(
                n,
                |i| u64::from(w[2 * i]) | u64::from(w[2 * i + 1]) << 32,
                h,
            )?;
            w[2 * n + i]
        };
        Some(self.base + offset)
    }
}

/// The position of `key` among `n` keys sorted without repeats, `key_at`
/// giving each.
fn search(n: usize, key_at: impl Fn(usize) -> u64, key: u64) -> Option<usize> {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match key_at(mid).cmp(&key) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return Some(mid),
        }
    }
    None
}

/// The keys of path hashes: random per process (drawn from the keys the
/// standard library's `RandomState` takes from the operating system), so
/// that input cannot be crafted to collide.
struct PathKeys {
    per_hasher: u64,
    shared: foldhash::SharedSeed,
}

fn path_keys() -> &'static PathKeys {
    static KEYS: std::sync::OnceLock<PathKeys> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        use std::hash::BuildHasher;
        let os = std::collections::hash_map::RandomState::new();
        PathKeys {
            per_hasher: os.hash_one(1u64),
            shared: foldhash::SharedSeed::from_u64(os.hash_one(2u64)),
        }
    })
}

/// A path hasher: foldhash (its quality variant) under the process's keys.
/// A lookup per node of every document makes SipHash, the standard
/// library's, the larger part of building the index.
fn path_hasher() -> foldhash::quality::FoldHasher<'static> {
    let keys = path_keys();
    foldhash::quality::FoldHasher::with_seed(keys.per_hasher, &keys.shared)
}

/// The path hash of a mapping's entry `key` under the node of hash `parent`.
fn key_hash(parent: u64, key: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = path_hasher();
    h.write_u64(parent);
    h.write_u8(0);
    // foldhash folds the length in: keys that are prefixes of one another
    // do not collide.
    h.write(key.as_bytes());
    h.finish()
}

/// The path hash of a sequence's item `index` under the node of hash `parent`.
fn item_hash(parent: u64, index: usize) -> u64 {
    use std::hash::Hasher;
    let mut h = path_hasher();
    h.write_u64(parent);
    h.write_u8(1);
    h.write_u64(index as u64);
    h.finish()
}

/// The hash of the root's (empty) path.
const ROOT_HASH: u64 = 0;

impl LineIndex {
    pub fn of(root: &Node) -> LineIndex {
        let mut pairs: Vec<(u64, u32)> = Vec::new();
        // (node, its path hash); an explicit stack, as the tree may be deep.
        let mut stack: Vec<(&Node, u64)> = vec![(root, ROOT_HASH)];
        while let Some((node, h)) = stack.pop() {
            match &node.kind {
                NodeKind::Map(entries) => {
                    for e in entries {
                        let k = key_hash(h, &e.key);
                        pairs.push((k, e.key_line));
                        stack.push((&e.value, k));
                    }
                }
                NodeKind::Seq(items) => {
                    for (i, n) in items.iter().enumerate() {
                        let k = item_hash(h, i);
                        pairs.push((k, n.line));
                        stack.push((n, k));
                    }
                }
                _ => {}
            }
        }
        // A key given twice: the tree's lookups find the last entry. Entries
        // of one mapping are pushed in order, so a stable sort keeps them in
        // order and the last of equal hashes is the one to keep.
        pairs.sort_by_key(|p| p.0);
        pairs.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 = later.1;
            }
            same
        });
        LineIndex {
            entries: Entries::wide(root.line, &pairs),
        }
    }

    fn get(&self, h: u64) -> Option<u32> {
        self.entries.get(h)
    }

    /// The index of what is left of the document when its JSON was cut down
    /// to `value`: the lines of the nodes `value` still has, so every path
    /// that still exists finds the line it found before.
    pub fn retain(&self, value: &crate::json::Value) -> LineIndex {
        use crate::json::Value;
        // At most a pair for each of this index's.
        let mut pairs: Vec<(u64, u32)> = Vec::with_capacity(self.entries.len());
        let mut stack: Vec<(&Value, u64)> = vec![(value, ROOT_HASH)];
        while let Some((v, h)) = stack.pop() {
            match v {
                Value::Object(map) => {
                    for (key, child) in map {
                        let k = key_hash(h, key);
                        if let Some(l) = self.get(k) {
                            pairs.push((k, l));
                        }
                        stack.push((child, k));
                    }
                }
                Value::Array(items) => {
                    for (i, child) in items.iter().enumerate() {
                        let k = item_hash(h, i);
                        if let Some(l) = self.get(k) {
                            pairs.push((k, l));
                        }
                        stack.push((child, k));
                    }
                }
                _ => {}
            }
        }
        pairs.sort_unstable_by_key(|p| p.0);
        pairs.dedup_by_key(|p| p.0);
        // Kept to the end of a run: as small as it can be.
        LineIndex {
            entries: Entries::compact(self.entries.root(), &pairs),
        }
    }

    /// [`LineIndex::retain`], then [`LineIndex::share`], for a `value` cut
    /// down from the document by its kind and its keys alone (never by a
    /// value): documents of one `kind` whose whole indexes are equal (the
    /// same paths on the same lines from their first) then keep the same
    /// entries, so the kept block is made once per shape and kind
    /// ([`crate::json::Strings::derived`]) and moved to where each document
    /// starts.
    pub fn retain_shared(
        &self,
        value: &crate::json::Value,
        kind: &crate::json::Str,
        strings: &mut crate::json::Strings,
    ) -> LineIndex {
        let whole = &self.entries;
        if let Some((words, delta)) = strings.derived(kind, &whole.words) {
            return LineIndex {
                entries: Entries {
                    root: whole.root,
                    // The kept lines' first, as far after the whole
                    // index's first as in the document it was made for.
                    base: u32::try_from(i64::from(whole.base) + delta).unwrap_or(0),
                    words,
                },
            };
        }
        let mut kept = self.retain(value);
        kept.share(strings);
        let delta = i64::from(kept.entries.base) - i64::from(whole.base);
        strings.remember_derived(kind, &whole.words, &kept.entries.words, delta);
        kept
    }

    /// Makes the index's block of words a copy of an equal one met before
    /// (see [`Entries`]).
    pub fn share(&mut self, strings: &mut crate::json::Strings) {
        strings.share_words(&mut self.entries.words);
    }

    /// As [`Node::line_of`] on the tree this index was built from.
    pub fn line_of(&self, pointer: &str) -> u32 {
        let mut line = self.entries.root();
        if pointer.is_empty() {
            return line;
        }
        let mut h = ROOT_HASH;
        for raw in pointer.trim_start_matches('/').split('/') {
            let token = unescape_token(raw);
            let k = key_hash(h, &token);
            if let Some(l) = self.get(k) {
                h = k;
                line = l;
                continue;
            }
            let item = token.parse::<usize>().ok().map(|i| item_hash(h, i));
            match item.and_then(|k| Some((k, self.get(k)?))) {
                Some((k, l)) => {
                    h = k;
                    line = l;
                }
                None => break,
            }
        }
        line
    }
}

/// A JSON-pointer token as the key it names (`~1` is `/`, `~0` is `~`).
fn unescape_token(raw: &str) -> Cow<'_, str> {
    if raw.contains('~') {
        Cow::Owned(raw.replace("~1", "/").replace("~0", "~"))
    } else {
        Cow::Borrowed(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Node {
        parse_document(s, 1).unwrap().root.unwrap()
    }

    #[test]
    fn keeps_lines_of_fields() {
        let n = parse("a: 1\nb:\n  c: [x, z]\n  d: true\n");
        assert_eq!(n.line_of("/b/d"), 4);
        assert_eq!(n.locate("/b/c/1").as_str(), Some("z"));
        assert_eq!(n.line_of("/b/missing"), 2);
    }

    #[test]
    fn resolves_scalars_like_kubernetes() {
        let n = parse("a: yes\nb: '1'\nc: 0x10\nd: 1.5\ne: ~\nf: 1e3\ng: 400Mi\nh: 010\n");
        let j = n.to_json();
        assert_eq!(j["a"], true);
        assert_eq!(j["b"], "1");
        assert_eq!(j["c"], 16);
        assert_eq!(j["d"], 1.5);
        assert!(j["e"].is_null());
        assert_eq!(j["f"], 1000.0);
        assert_eq!(j["g"], "400Mi");
        assert_eq!(j["h"], 8);
    }

    #[test]
    fn reports_duplicate_keys() {
        let p = parse_document("a: 1\nb: 2\na: 3\n", 1).unwrap();
        assert_eq!(p.issues.len(), 1);
        assert_eq!(p.issues[0].line, 3);
        assert_eq!(p.issues[0].path, "/a");
        assert_eq!(p.root.unwrap().to_json()["a"], 3);
    }

    // One test per go-yaml leniency mclint follows (what kubectl and Helm read).

    #[test]
    fn go_yaml_keeps_the_last_repeated_key_and_the_message_names_the_loss() {
        let p = parse_document("a: {x: 1, y: 2}\nb: 2\na: 3\na: \"four\"\n", 1).unwrap();
        assert_eq!(p.root.unwrap().to_json()["a"], "four");
        assert_eq!(p.issues.len(), 2);
        let m = &p.issues[0].message;
        assert!(m.contains("keep the last value"), "{m}");
        assert!(m.contains("(line 3) wins"), "{m}");
        assert!(m.contains("a mapping of 2 keys from line 1 is lost"), "{m}");
        let m = &p.issues[1].message;
        assert!(
            m.contains("(line 4) wins and `3` from line 3 is lost"),
            "{m}"
        );
    }

    #[test]
    fn go_yaml_reads_flow_sequences_continued_at_the_key_column() {
        let text = "spec:\n  containers:\n  - name: x\n    command: [ \"/bin/sh\",\n    \"-c\", \"echo [hi]\" ]\n    args: [a,\n  b]\n    env: []\n";
        let p = parse_document(text, 10).unwrap();
        let json = p.root.unwrap().to_json();
        let c = &json["spec"]["containers"][0];
        assert_eq!(
            c["command"],
            crate::json_value!(["/bin/sh", "-c", "echo [hi]"])
        );
        assert_eq!(c["args"], crate::json_value!(["a", "b"]));
        assert_eq!(c["env"], crate::json_value!([]));
        let lines: Vec<u32> = p.issues.iter().map(|i| i.line).collect();
        assert_eq!(lines, vec![14, 16]);
        assert!(
            p.issues
                .iter()
                .all(|i| i.kind == YamlIssueKind::FlowIndentation)
        );
        assert!(p.issues[0].message.contains("opened on line 13"));
    }

    #[test]
    fn go_yaml_reads_flow_mappings_continued_at_the_key_column() {
        let p = parse_document("a:\n  b: {x: 1,\n  z: 2}\nc: 3\n", 1).unwrap();
        let json = p.root.unwrap().to_json();
        assert_eq!(json["a"]["b"], crate::json_value!({"x": 1, "z": 2}));
        assert_eq!(json["c"], 3);
        assert_eq!(p.issues.len(), 1);
    }

    #[test]
    fn a_real_indentation_error_is_still_an_error() {
        assert!(parse_document("a:\n  b: 1\n c: 2\n", 1).is_err());
        // A bracket in a plain scalar opens nothing.
        assert!(parse_document("a: x[1\nb: 2\n", 1).is_ok());
    }

    #[test]
    fn go_yaml_reads_yaml_1_1_scalars() {
        let n = parse("a: yes\nb: off\nc: 0755\nd: 0x1F\n").to_json();
        assert_eq!(
            n,
            crate::json_value!({"a": true, "b": false, "c": 493, "d": 31})
        );
    }

    #[test]
    fn bounds_alias_bombs() {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            s.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let err = parse_document(&s, 1).unwrap_err();
        assert!(err.message.contains("alias"), "{err:?}");
    }

    #[test]
    fn bounds_nesting() {
        let s = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let err = parse_document(&s, 1).unwrap_err();
        assert!(
            err.message.contains("nesting") || err.message.contains("recursion"),
            "{err:?}"
        );
    }

    #[test]
    fn offsets_lines() {
        let err = parse_document("a: 1\n\tb: 2\n", 10).unwrap_err();
        assert_eq!(err.line, 11);
    }

    #[test]
    fn refuses_control_characters() {
        let err = parse_document("a: 1\nb: x\x07y\n", 5).unwrap_err();
        assert_eq!((err.line, err.col), (6, 5));
        assert!(err.message.contains("U+0007"), "{err:?}");
        assert!(parse_document("a: \"tab\there\"\r\nb: caf\u{e9} \u{85}\n", 1).is_ok());
        assert!(parse_document("a: \u{9b}\n", 1).is_err());
    }

    #[test]
    fn a_key_given_three_times_names_its_first_line_in_small_and_wide_mappings() {
        // Small mappings compare keys to each entry's; wide ones look them up
        // in a map built past `LINEAR_KEYS` entries, here between the
        // repeats of `dup`.
        for filler in [0, 4, LINEAR_KEYS * 2] {
            let mut s = String::from("dup: 1\n");
            for i in 0..filler {
                s.push_str(&format!("k{i}: v\n"));
            }
            s.push_str("dup: two\n");
            for i in 0..filler {
                s.push_str(&format!("m{i}: v\n"));
            }
            s.push_str("dup: [3]\n");
            let p = parse_document(&s, 1).unwrap();
            let (second, third) = (2 + filler as u32, 3 + 2 * filler as u32);
            assert_eq!(p.issues.len(), 2, "{filler}: {:?}", p.issues);
            let m = &p.issues[0].message;
            assert!(m.contains("(first at line 1)"), "{m}");
            assert!(
                m.contains(&format!("(line {second}) wins and `1` from line 1")),
                "{m}"
            );
            let m = &p.issues[1].message;
            assert!(m.contains("(first at line 1)"), "{m}");
            assert!(
                m.contains(&format!("(line {third}) wins and `two` from line {second}")),
                "{m}"
            );
            assert_eq!(p.issues[1].path, "/dup");
            let root = p.root.unwrap();
            let NodeKind::Map(entries) = &root.kind else {
                panic!("not a map")
            };
            assert_eq!(entries.len(), 1 + 2 * filler);
            assert_eq!(
                (entries[0].key.as_str(), entries[0].key_line),
                ("dup", third)
            );
            assert_eq!(root.to_json()["dup"][0], 3);
        }
    }

    #[test]
    fn refuses_only_the_characters_yaml_refuses() {
        for bad in [
            "\u{9f}", "\u{80}", "\u{fffe}", "\u{ffff}", "\u{7f}", "\u{1b}",
        ] {
            let err = parse_document(&format!("a: x\nb: \u{e9}{bad}\n"), 1).unwrap_err();
            assert_eq!((err.line, err.col), (2, 5), "{bad:?}");
        }
        for good in [
            "\u{85}",
            "\u{a0}",
            "\u{bf}",
            "\u{fffd}",
            "\u{f000}",
            "\u{10ffff}",
        ] {
            assert!(
                parse_document(&format!("a: \"{good}\"\n"), 1).is_ok(),
                "{good:?}"
            );
        }
    }

    #[test]
    fn wide_mappings_parse_in_linear_time() {
        // A 50 MB ConfigMap is a few hundred thousand keys: looking each key up
        // linearly made this quadratic (minutes). Duplicates still replace in place.
        let mut s = String::from("dup: 1\n");
        for i in 0..200_000 {
            s.push_str(&format!("k{i}: v\n"));
        }
        s.push_str("dup: 2\n");
        let start = std::time::Instant::now();
        let p = parse_document(&s, 1).unwrap();
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "took {:?}",
            start.elapsed()
        );
        let root = p.root.unwrap();
        let NodeKind::Map(entries) = &root.kind else {
            panic!("not a map")
        };
        assert_eq!(entries.len(), 200_001);
        assert_eq!(entries[0].key, "dup");
        assert_eq!(entries[0].value.kind, NodeKind::Int(2));
        assert_eq!(entries[0].key_line, 200_002);
        assert_eq!(p.issues.len(), 1);
    }

    #[test]
    fn line_index_answers_as_the_tree() {
        let text = "a: 1\nb:\n  c: [x, {d: 2}]\n  \"e/f\": 3\n  \"g~h\": 4\n  \"01\": 5\n  1: six\nlist:\n- k: 1\n  k: 2\n-\n  - deep\na: 7\n";
        let root = parse_document(text, 10).unwrap().root.unwrap();
        let index = LineIndex::of(&root);
        let pointers = [
            "",
            "/a",
            "/b",
            "/b/c",
            "/b/c/0",
            "/b/c/1",
            "/b/c/1/d",
            "/b/c/1/zz",
            "/b/c/2",
            "/b/e~1f",
            "/b/g~0h",
            "/b/01",
            "/b/1",
            "/b/c/01",
            "/b/c/+1",
            "/list/0/k",
            "/list/1/0",
            "/list/1/0/x",
            "/missing/deeper",
            "/list/-1",
            "/b/",
            "//",
            "/a/0",
            "/list/00",
        ];
        for p in pointers {
            assert_eq!(index.line_of(p), root.line_of(p), "pointer {p:?}");
        }
        // A key given twice: the last one, as Kubernetes reads it.
        assert_eq!(index.line_of("/a"), 22);
        assert_eq!(index.line_of("/list/0/k"), 19);
        // Kept whole, the index is stored narrow and answers the same.
        let kept = index.retain(&root.to_json());
        assert!(kept.entries.is_narrow());
        for p in pointers {
            assert_eq!(kept.line_of(p), root.line_of(p), "pointer {p:?}");
        }
    }

    #[test]
    fn documents_of_one_shape_share_their_kept_index_and_keep_their_lines() {
        let text = |name: &str| {
            format!("kind: Service\nmetadata:\n  name: {name}\nspec:\n  ports:\n  - port: 1\n")
        };
        let mut strings = crate::json::Strings::new();
        let mut kept = Vec::new();
        // The same shape at lines 1 and 40; another shape (one line more) at 80.
        for (first, doc) in [
            (1, text("a")),
            (40, text("bb")),
            (80, text("c").replace("spec:", "spec:\n  type: X")),
        ] {
            let root = parse_document(&doc, first).unwrap().root.unwrap();
            let mut index = LineIndex::of(&root).retain(&root.to_json());
            index.share(&mut strings);
            assert_eq!(
                index.line_of("/spec/ports/0/port"),
                root.line_of("/spec/ports/0/port")
            );
            assert_eq!(index.line_of("/metadata/name"), first + 2);
            assert_eq!(index.line_of(""), root.line_of(""));
            kept.push(index);
        }
        assert!(kept[0].entries.words.same(&kept[1].entries.words));
        assert!(!kept[0].entries.words.same(&kept[2].entries.words));
        assert_eq!(kept[1].line_of("/spec/ports/0/port"), 45);
        assert_eq!(kept[2].line_of("/spec/ports/0/port"), 86);
    }

    #[test]
    fn narrow_entries_only_when_nothing_is_lost() {
        // Low halves apart, lines close: narrow, same answers, whether the
        // entries are an odd or an even number.
        let pairs = [
            (1u64 << 40 | 7, 100),
            (3u64 << 40 | 9, 65_635),
            (3u64 << 40 | 11, 101),
        ];
        for n in 0..=pairs.len() {
            let narrow = Entries::compact(5, &pairs[..n]);
            assert!(narrow.is_narrow());
            assert_eq!(narrow.len(), n);
            assert_eq!(narrow.root(), 5);
            for &(h, l) in &pairs[..n] {
                assert_eq!(narrow.get(h), Some(l));
            }
            assert_eq!(narrow.get(5), None);
            assert_eq!(narrow.get(1u64 << 40 | 8), None);
        }
        assert_eq!(Entries::compact(5, &pairs).base(), 100);
        // Two hashes equal in their low 32 bits: kept wide.
        let colliding = [(1u64 << 40 | 7, 1), (3u64 << 40 | 7, 2)];
        let wide = Entries::compact(5, &colliding);
        assert!(!wide.is_narrow());
        assert_eq!(wide.len(), 2);
        assert_eq!(wide.get(1u64 << 40 | 7), Some(1));
        assert_eq!(wide.get(3u64 << 40 | 7), Some(2));
        assert_eq!(wide.get(7), None);
        // Lines 65,536 apart: kept wide.
        let far = [(1, 1), (2, 65_537)];
        assert!(!Entries::compact(5, &far).is_narrow());
        assert_eq!(Entries::compact(5, &far).get(2), Some(65_537));
        assert_eq!(Entries::wide(5, &[]).get(0), None);
    }
}
