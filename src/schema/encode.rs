//! A JSON schema → the compact form [`super::compact`] reads.
//!
//! This file is also compiled by `build.rs`, which encodes every embedded
//! schema once at build time, so it depends on `serde_json` only.
//!
//! Only the keywords the generated Kubernetes schemas use are understood
//! (`type`, `$ref` to `#/$defs/NAME`, `properties`, `additionalProperties`,
//! `required`, `items`, `enum` and `const` of strings, the quantity `pattern`,
//! and `format`, an annotation in draft 2020-12). A subschema with any other
//! keyword, or with one of these in a form not listed, is encoded as
//! "unsupported": the compact check never calls a value valid there, and the
//! full validator decides.
//!
//! Layout: fixed-size records, so a reader needs no decoding pass and no
//! allocation. Integers are little-endian `u32`; `NONE` is `u32::MAX`.
//! - header: `MAGIC`, node count, root node, property count, string count,
//!   text length;
//! - nodes, [`NODE_WORDS`] each: types (bit set, 0 = any), flags, `$ref`
//!   target, `additionalProperties` node, `items` node (each `NONE` if
//!   absent), first property and count, first required string and count,
//!   first enum string and count (`NONE` = no enum);
//! - properties, 3 words each: name offset and length in the text, node;
//!   sorted by name within a node;
//! - strings, 2 words each: offset and length in the text;
//! - the text (UTF-8).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

pub const MAGIC: u32 = 0x3253_434d; // "MCS2"
pub const HEADER_WORDS: usize = 6;
pub const NODE_WORDS: usize = 11;
pub const NONE: u32 = u32::MAX;

pub const T_NULL: u32 = 1;
pub const T_BOOLEAN: u32 = 2;
pub const T_OBJECT: u32 = 4;
pub const T_ARRAY: u32 = 8;
pub const T_NUMBER: u32 = 16;
pub const T_STRING: u32 = 32;
pub const T_INTEGER: u32 = 64;

/// Never valid here: let the full validator decide.
pub const F_UNSUPPORTED: u32 = 1;
/// `additionalProperties: false`.
pub const F_CLOSED: u32 = 2;
/// A string must be a Kubernetes quantity (the schemas' quantity `pattern`).
pub const F_QUANTITY: u32 = 4;

const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";
/// Keywords that never change whether a value is valid.
const ANNOTATIONS: &[&str] = &[
    "description",
    "title",
    "default",
    "examples",
    "readOnly",
    "writeOnly",
    "deprecated",
    "$comment",
    "format",
];

#[derive(Default, Clone, PartialEq, Eq, Hash)]
struct Node {
    types: u32,
    flags: u32,
    reference: u32,
    additional: u32,
    items: u32,
    properties: Vec<(String, u32)>,
    required: Vec<String>,
    enumeration: Option<Vec<String>>,
}

struct Encoder<'a> {
    defs: BTreeMap<&'a str, u32>,
    nodes: Vec<Node>,
    /// Inline subschemas already written, so identical ones (`{"type":
    /// "string"}` above all) share one node.
    interned: HashMap<Node, u32>,
    quantity_pattern: &'a str,
}

/// The compact form of `root`, or `None` when the whole document is outside
/// what the compact check can judge (not draft 2020-12, or not an object).
pub fn encode(root: &Value, quantity_pattern: &str) -> Option<Vec<u8>> {
    let map = root.as_object()?;
    if map.get("$schema").and_then(Value::as_str) != Some(DRAFT_2020_12) {
        return None;
    }
    let mut enc = Encoder {
        defs: BTreeMap::new(),
        nodes: Vec::new(),
        interned: HashMap::new(),
        quantity_pattern,
    };
    // Every definition gets its node id first, so `$ref`s resolve in one pass.
    let defs = match map.get("$defs") {
        None => None,
        Some(Value::Object(defs)) => Some(defs),
        Some(_) => return None,
    };
    if let Some(defs) = defs {
        for name in defs.keys() {
            let id = enc.reserve();
            enc.defs.insert(name.as_str(), id);
        }
    }
    let root_id = enc.reserve();
    if let Some(defs) = defs {
        for (name, schema) in defs {
            let id = enc.defs[name.as_str()];
            enc.fill(id, schema, false);
        }
    }
    enc.fill(root_id, root, true);
    Some(enc.write(root_id))
}

impl<'a> Encoder<'a> {
    fn reserve(&mut self) -> u32 {
        self.nodes.push(Node::default());
        (self.nodes.len() - 1) as u32
    }

    fn child(&mut self, schema: &'a Value) -> u32 {
        let node = self.node_or_unsupported(schema, false);
        if let Some(id) = self.interned.get(&node) {
            return *id;
        }
        let id = self.nodes.len() as u32;
        self.nodes.push(node.clone());
        self.interned.insert(node, id);
        id
    }

    fn fill(&mut self, id: u32, schema: &'a Value, is_root: bool) {
        self.nodes[id as usize] = self.node_or_unsupported(schema, is_root);
    }

    fn node_or_unsupported(&mut self, schema: &'a Value, is_root: bool) -> Node {
        self.node_of(schema, is_root).unwrap_or(Node {
            flags: F_UNSUPPORTED,
            reference: NONE,
            additional: NONE,
            items: NONE,
            ..Node::default()
        })
    }

    /// `None`: a keyword or form outside the compact check.
    fn node_of(&mut self, schema: &'a Value, is_root: bool) -> Option<Node> {
        let mut node = Node {
            reference: NONE,
            additional: NONE,
            items: NONE,
            ..Node::default()
        };
        let map = match schema {
            Value::Bool(true) => return Some(node),
            Value::Object(map) => map,
            _ => return None,
        };
        for (key, value) in map {
            match key.as_str() {
                "$schema" | "$defs" if is_root => {}
                "type" => node.types = types(value)?,
                "$ref" => {
                    let name = value.as_str()?.strip_prefix("#/$defs/")?;
                    if name.contains(['/', '~', '%']) {
                        return None;
                    }
                    node.reference = *self.defs.get(name)?;
                }
                "properties" => {
                    let props = value.as_object()?;
                    for (name, sub) in props {
                        let id = self.child(sub);
                        node.properties.push((name.clone(), id));
                    }
                    node.properties.sort_by(|a, b| a.0.cmp(&b.0));
                }
                "additionalProperties" => match value {
                    Value::Bool(false) => node.flags |= F_CLOSED,
                    Value::Bool(true) => {}
                    other => node.additional = self.child(other),
                },
                "items" => node.items = self.child(value),
                "required" => {
                    for name in value.as_array()? {
                        node.required.push(name.as_str()?.to_string());
                    }
                }
                "enum" => {
                    let mut strings = Vec::new();
                    for v in value.as_array()? {
                        strings.push(v.as_str()?.to_string());
                    }
                    node.enumeration = Some(strings);
                }
                "const" => node.enumeration = Some(vec![value.as_str()?.to_string()]),
                "pattern" if value.as_str() == Some(self.quantity_pattern) => {
                    node.flags |= F_QUANTITY;
                }
                k if ANNOTATIONS.contains(&k) => {}
                _ => return None,
            }
        }
        // `enum` with `const`, or both spelled twice: keep it simple.
        if map.contains_key("enum") && map.contains_key("const") {
            return None;
        }
        Some(node)
    }

    fn write(&'a self, root: u32) -> Vec<u8> {
        let mut nodes: Vec<u32> = Vec::new();
        let mut props: Vec<u32> = Vec::new();
        let mut strings: Vec<u32> = Vec::new();
        let mut text: Vec<u8> = Vec::new();
        // Each distinct string once: property names repeat across types.
        let mut seen: HashMap<&str, u32> = HashMap::new();
        let mut put = |text: &mut Vec<u8>, s: &'a str| {
            let at = *seen.entry(s).or_insert_with(|| {
                text.extend_from_slice(s.as_bytes());
                (text.len() - s.len()) as u32
            });
            [at, s.len() as u32]
        };
        for n in &self.nodes {
            nodes.extend([n.types, n.flags, n.reference, n.additional, n.items]);
            nodes.extend([(props.len() / 3) as u32, n.properties.len() as u32]);
            for (name, id) in &n.properties {
                props.extend(put(&mut text, name));
                props.push(*id);
            }
            nodes.extend([(strings.len() / 2) as u32, n.required.len() as u32]);
            for name in &n.required {
                strings.extend(put(&mut text, name));
            }
            match &n.enumeration {
                None => nodes.extend([NONE, 0]),
                Some(values) => {
                    nodes.extend([(strings.len() / 2) as u32, values.len() as u32]);
                    for v in values {
                        strings.extend(put(&mut text, v));
                    }
                }
            }
        }
        let header = [
            MAGIC,
            self.nodes.len() as u32,
            root,
            (props.len() / 3) as u32,
            (strings.len() / 2) as u32,
            text.len() as u32,
        ];
        let mut out = Vec::new();
        for w in header.iter().chain(&nodes).chain(&props).chain(&strings) {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&text);
        out
    }
}

fn types(value: &Value) -> Option<u32> {
    let one = |v: &Value| {
        Some(match v.as_str()? {
            "null" => T_NULL,
            "boolean" => T_BOOLEAN,
            "object" => T_OBJECT,
            "array" => T_ARRAY,
            "number" => T_NUMBER,
            "string" => T_STRING,
            "integer" => T_INTEGER,
            _ => return None,
        })
    };
    match value {
        Value::Array(list) if !list.is_empty() => {
            list.iter().try_fold(0, |acc, v| Some(acc | one(v)?))
        }
        Value::Array(_) => None,
        v => one(v),
    }
}
