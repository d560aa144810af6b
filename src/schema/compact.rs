//! A cheap first check of an object against its schema.
//!
//! Compiling a Kubernetes schema with `jsonschema` costs milliseconds (the pod
//! spec alone is some 120 definitions), which dominated the lint of a whole
//! chart. The embedded schemas are encoded at build time (`build.rs`, with
//! [`super::encode`]) into a compact form that loads in microseconds, and this
//! module answers one question with it: is the object surely valid? Only when
//! it is not sure does the caller compile the full validator, which then gives
//! the verdict and the messages. So the compact check only ever says "valid"
//! where `jsonschema` would too; wherever it cannot tell (a keyword it does not
//! model, a float where an integer is wanted, a number compared with a
//! string enum) it says "not sure".

use crate::json::Value;

use std::borrow::Cow;

use super::encode::{
    F_CLOSED, F_QUANTITY, F_UNSUPPORTED, HEADER_WORDS, MAGIC, NODE_WORDS, NONE, T_ARRAY, T_BOOLEAN,
    T_INTEGER, T_NULL, T_NUMBER, T_OBJECT, T_STRING,
};

// `(version, file name, start, end)` into `BLOB`, sorted; written by build.rs.
include!(concat!(env!("OUT_DIR"), "/compact_index.rs"));
static BLOB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/compact.bin"));

/// The build-time compact form of an embedded schema, if it has one.
pub fn embedded(version: &str, file: &str) -> Option<&'static [u8]> {
    let i = INDEX
        .binary_search_by(|(v, f, _, _)| (*v, *f).cmp(&(version, file)))
        .ok()?;
    let (_, _, start, end) = INDEX[i];
    BLOB.get(start..end)
}

/// A compact schema: the encoded bytes, read in place.
pub struct CompactSchema {
    bytes: Cow<'static, [u8]>,
    root: u32,
    nodes: usize,
    node_count: u32,
    props: usize,
    strings: usize,
    text: usize,
}

/// A node's record, read from the bytes.
struct Node {
    types: u32,
    flags: u32,
    reference: u32,
    additional: u32,
    items: u32,
    properties: (u32, u32),
    required: (u32, u32),
    enumeration: (u32, u32),
}

impl CompactSchema {
    /// `None` if `bytes` is not a compact schema whose tables fill it exactly,
    /// so a damaged form is never trusted; a reference out of range found
    /// later makes the check "not sure".
    pub fn decode(bytes: Cow<'static, [u8]>) -> Option<CompactSchema> {
        let word = |i: usize| word_at(&bytes, i * 4);
        if word(0)? != MAGIC {
            return None;
        }
        let (node_count, root, props, strings, text) =
            (word(1)?, word(2)?, word(3)?, word(4)?, word(5)?);
        let words = HEADER_WORDS
            .checked_add((node_count as usize).checked_mul(NODE_WORDS)?)?
            .checked_add((props as usize).checked_mul(3)?)?
            .checked_add((strings as usize).checked_mul(2)?)?;
        if words.checked_mul(4)?.checked_add(text as usize)? != bytes.len() || root >= node_count {
            return None;
        }
        let nodes = HEADER_WORDS * 4;
        let props_at = nodes + node_count as usize * NODE_WORDS * 4;
        let strings_at = props_at + props as usize * 12;
        let text_at = strings_at + strings as usize * 8;
        Some(CompactSchema {
            bytes,
            root,
            nodes,
            node_count,
            props: props_at,
            strings: strings_at,
            text: text_at,
        })
    }

    /// `true` only if `instance` is valid against the schema for sure.
    pub fn surely_valid(&self, instance: &Value) -> bool {
        self.valid_at(self.root, instance, 0).unwrap_or(false)
    }

    fn node(&self, id: u32) -> Option<Node> {
        if id >= self.node_count {
            return None;
        }
        let at = self.nodes + id as usize * NODE_WORDS * 4;
        let w = |i: usize| word_at(&self.bytes, at + i * 4);
        Some(Node {
            types: w(0)?,
            flags: w(1)?,
            reference: w(2)?,
            additional: w(3)?,
            items: w(4)?,
            properties: (w(5)?, w(6)?),
            required: (w(7)?, w(8)?),
            enumeration: (w(9)?, w(10)?),
        })
    }

    fn text(&self, offset: u32, len: u32) -> Option<&[u8]> {
        let start = self.text.checked_add(offset as usize)?;
        self.bytes.get(start..start.checked_add(len as usize)?)
    }

    /// String `i` of the string table.
    fn string(&self, i: u32) -> Option<&[u8]> {
        let at = self.strings.checked_add((i as usize).checked_mul(8)?)?;
        if at >= self.text {
            return None;
        }
        self.text(word_at(&self.bytes, at)?, word_at(&self.bytes, at + 4)?)
    }

    /// Property `i` of the property table: its name and node.
    fn property(&self, i: u32) -> Option<(&[u8], u32)> {
        let at = self.props.checked_add((i as usize).checked_mul(12)?)?;
        if at >= self.strings {
            return None;
        }
        let name = self.text(word_at(&self.bytes, at)?, word_at(&self.bytes, at + 4)?)?;
        Some((name, word_at(&self.bytes, at + 8)?))
    }

    /// The node of property `key` among `(first, count)`, by binary search.
    fn find_property(&self, (first, count): (u32, u32), key: &[u8]) -> Option<Option<u32>> {
        let (mut lo, mut hi) = (0u32, count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (name, id) = self.property(first.checked_add(mid)?)?;
            match name.cmp(key) {
                std::cmp::Ordering::Equal => return Some(Some(id)),
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        Some(None)
    }

    /// `Some(true)`: surely valid; `Some(false)` or `None` (a damaged form):
    /// not sure.
    fn valid_at(&self, id: u32, value: &Value, depth: u32) -> Option<bool> {
        // Deeper than any real object: not sure (and no unbounded recursion
        // through a schema that refers to itself).
        if depth > 128 {
            return Some(false);
        }
        let node = self.node(id)?;
        if node.flags & F_UNSUPPORTED != 0 {
            return Some(false);
        }
        if node.reference != NONE && !self.valid_at(node.reference, value, depth + 1)? {
            return Some(false);
        }
        if node.types != 0 && node.types & type_of(value) == 0 {
            return Some(false);
        }
        let (first, count) = node.enumeration;
        if first != NONE {
            let Value::String(s) = value else {
                return Some(false);
            };
            let mut found = false;
            for i in 0..count {
                if self.string(first.checked_add(i)?)? == s.as_bytes() {
                    found = true;
                    break;
                }
            }
            if !found {
                return Some(false);
            }
        }
        match value {
            Value::String(s) if node.flags & F_QUANTITY != 0 => Some(is_quantity(s)),
            Value::Object(map) => {
                let (first, count) = node.required;
                for i in 0..count {
                    let name = std::str::from_utf8(self.string(first.checked_add(i)?)?).ok()?;
                    if !map.contains_key(name) {
                        return Some(false);
                    }
                }
                for (key, v) in map {
                    let ok = match self.find_property(node.properties, key.as_bytes())? {
                        Some(child) => self.valid_at(child, v, depth + 1)?,
                        None if node.additional != NONE => {
                            self.valid_at(node.additional, v, depth + 1)?
                        }
                        None => node.flags & F_CLOSED == 0,
                    };
                    if !ok {
                        return Some(false);
                    }
                }
                Some(true)
            }
            Value::Array(items) if node.items != NONE => {
                for v in items {
                    if !self.valid_at(node.items, v, depth + 1)? {
                        return Some(false);
                    }
                }
                Some(true)
            }
            _ => Some(true),
        }
    }
}

fn word_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The type bits `value` satisfies. A float is never called an integer here,
/// even `1.0` (which JSON Schema counts as one): not sure, so the full check.
fn type_of(value: &Value) -> u32 {
    match value {
        Value::Null => T_NULL,
        Value::Bool(_) => T_BOOLEAN,
        Value::Object(_) => T_OBJECT,
        Value::Array(_) => T_ARRAY,
        Value::String(_) => T_STRING,
        Value::Number(n) if n.is_i64() || n.is_u64() => T_NUMBER | T_INTEGER,
        Value::Number(_) => T_NUMBER,
    }
}

/// The quantity grammar of [`super::quantity::PATTERN`], matched by hand:
/// `[+-]? number (Ki|Mi|Gi|Ti|Pi|Ei | n|u|m|k|M|G|T|P|E | (e|E) [+-]? number)?`
/// with `number = digits [. digits?] | . digits`, the whole string.
pub fn is_quantity(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(rest) = number(b.strip_prefix(b"+").or(b.strip_prefix(b"-")).unwrap_or(b)) else {
        return false;
    };
    match rest {
        [] => true,
        [b'K' | b'M' | b'G' | b'T' | b'P' | b'E', b'i'] => true,
        [b'n' | b'u' | b'm' | b'k' | b'M' | b'G' | b'T' | b'P' | b'E'] => true,
        [b'e' | b'E', exp @ ..] => {
            let exp = exp
                .strip_prefix(b"+")
                .or(exp.strip_prefix(b"-"))
                .unwrap_or(exp);
            number(exp).is_some_and(<[u8]>::is_empty)
        }
        _ => false,
    }
}

/// Consumes `digits [. digits?] | . digits`; `None` if `b` does not start so.
fn number(b: &[u8]) -> Option<&[u8]> {
    let digits = |b: &[u8]| b.iter().take_while(|c| c.is_ascii_digit()).count();
    let whole = digits(b);
    let rest = &b[whole..];
    match rest.strip_prefix(b".") {
        Some(frac) => {
            let n = digits(frac);
            (whole > 0 || n > 0).then_some(&frac[n..])
        }
        None => (whole > 0).then_some(rest),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{encode::encode, quantity};
    use super::*;
    use serde_json::{Value, json};

    /// The compact form's verdict on a `serde_json` instance.
    fn sure(c: &CompactSchema, instance: &Value) -> bool {
        c.surely_valid(&crate::json::Value::from(instance.clone()))
    }

    fn full(schema: &Value) -> jsonschema::Validator {
        jsonschema::options().build(schema).unwrap()
    }

    fn compact(schema: &Value) -> CompactSchema {
        CompactSchema::decode(Cow::Owned(encode(schema, quantity::PATTERN).unwrap())).unwrap()
    }

    #[test]
    fn the_quantity_matcher_agrees_with_the_pattern() {
        let schema = json!({"type": "string", "pattern": quantity::PATTERN});
        let v = full(&schema);
        let mut cases: Vec<String> = [
            "", "1", "+1", "-1", "1.", ".5", ".", "+.", "1.5Gi", "1Gi", "1G", "1Gi ", " 1", "1e3",
            "1E3", "1E", "1e", "1e+", "1e-3", "1e3.5", "1.e3", "1Ki", "1ki", "1Ei", "1Eix", "100m",
            "1u", "1n", "1k", "1K", "1Mi\n", "1\n", "١", "1MB", "--1", "1.2.3", "0x10", "1e.5",
            "1e5Gi",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Every string of up to 3 characters over the grammar's alphabet.
        let alphabet = ["", "1", ".", "+", "-", "e", "E", "i", "K", "m", "x"];
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    cases.push(format!("{a}{b}{c}"));
                }
            }
        }
        for s in cases {
            assert_eq!(is_quantity(&s), v.is_valid(&json!(s)), "{s:?}");
        }
    }

    #[test]
    fn surely_valid_implies_valid_and_invalid_is_never_called_valid() {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": {
                "Meta": {"type": "object", "additionalProperties": false,
                         "properties": {"name": {"type": "string"},
                                        "labels": {"type": "object", "additionalProperties": {"type": "string"}}}},
                "Q": {"type": ["string", "number"], "pattern": quantity::PATTERN},
                "Odd": {"type": "string", "pattern": "^a+$"}
            },
            "type": "object",
            "additionalProperties": false,
            "required": ["kind", "metadata"],
            "properties": {
                "kind": {"type": "string", "const": "Pod"},
                "metadata": {"$ref": "#/$defs/Meta", "required": ["name"]},
                "n": {"type": "integer", "format": "int32"},
                "q": {"$ref": "#/$defs/Q"},
                "p": {"type": "string", "enum": ["TCP", "UDP"]},
                "l": {"type": "array", "items": {"type": "boolean"}},
                "o": {"$ref": "#/$defs/Odd"},
                "t": {"type": "string", "format": "date-time"}
            }
        });
        let (f, c) = (full(&schema), compact(&schema));
        let cases = [
            json!({"kind": "Pod", "metadata": {"name": "a"}}),
            json!({"kind": "Pod", "metadata": {"name": "a", "labels": {"x": "y"}}}),
            json!({"kind": "Pod", "metadata": {"name": "a", "labels": {"x": 1}}}),
            json!({"kind": "Pod", "metadata": {}}),
            json!({"kind": "Pod"}),
            json!({"kind": "Job", "metadata": {"name": "a"}}),
            json!({"kind": "Pod", "metadata": {"name": "a", "nam": "b"}}),
            json!({"kind": "Pod", "metadata": {"name": "a"}, "extra": 1}),
            json!({"kind": "Pod", "metadata": {"name": "a"}, "n": 5}),
            json!({"kind": "Pod", "metadata": {"name": "a"}, "n": 99999999999u64}),
            json!({"kind": "Pod", "metadata": {"name": "a"}, "n": 5.0}),
            json!({"kind": "Pod", "metadata": {"name": "a"}, "n": 5.5}),
            json!({"kind": "Pod", "metadata": {"name": "a"}, "n": "5"}),
            json!({"kind": "Pod", "metadata": {"name": "a"}, "q": "1Gi"}),
            json!({"kind": "Pod", "metadata": {"name": "a"}, "q": 1.5}),
            json!({"kind": "Pod", "metadata": {"name": "a"}, "q": "1GB"}),
            json!({"kind": "Pod", "metadata": {"name": "a"}, "q": true}),
            json!({"kind": "Pod", "metadata": {"name": "a"}, "p": "TCP"}),
            json!({"kind": "Pod", "metadata": {"name": "a"}, "p": "HTTP"}),
            json!({"kind": "Pod", "metadata": {"name": "a"}, "p": 1}),
            json!({"kind": "Pod", "metadata": {"name": "a"}, "l": [true, false]}),
            json!({"kind": "Pod", "metadata": {"name": "a"}, "l": [true, 1]}),
            json!({"kind": "Pod", "metadata": {"name": "a"}, "l": {}}),
            json!({"kind": "Pod", "metadata": {"name": "a"}, "o": "aaa"}),
            json!({"kind": "Pod", "metadata": {"name": "a"}, "t": "not a date"}),
            json!({"kind": "Pod", "metadata": {"name": "a"}, "t": "2024-01-01T00:00:00Z"}),
            json!([]),
            json!(null),
        ];
        for case in &cases {
            if sure(&c, case) {
                assert!(f.is_valid(case), "called valid, is not: {case}");
            }
        }
        // The common cases are decided without the full validator.
        for i in [0, 1, 8, 9, 13, 14, 17, 20, 24, 25] {
            assert!(sure(&c, &cases[i]), "not sure: {}", cases[i]);
            assert!(f.is_valid(&cases[i]), "{}", cases[i]);
        }
        // A pattern it does not model: never sure, whatever the value.
        assert!(!sure(&c, &cases[23]));
    }

    #[test]
    fn other_drafts_and_damaged_forms_get_no_compact_check() {
        let draft7 =
            json!({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"});
        assert!(encode(&draft7, quantity::PATTERN).is_none());
        let schema = json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
                            "type": "object", "properties": {"a": {"type": "string"}}});
        let bytes = encode(&schema, quantity::PATTERN).unwrap();
        let decode = |b: &[u8]| CompactSchema::decode(Cow::Owned(b.to_vec()));
        assert!(decode(&bytes).is_some());
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_none(), "{cut}");
        }
        let mut bad = bytes.clone();
        bad[8] = 7; // root id out of range
        assert!(decode(&bad).is_none());
        // A reference out of range: never called valid, and no panic.
        let valid = json!({"a": "x"});
        assert!(sure(&decode(&bytes).unwrap(), &valid));
        let mut bad = bytes.clone();
        let reference = (HEADER_WORDS + 2) * 4; // the root node's `$ref` (node 0)
        bad[reference..reference + 4].copy_from_slice(&1000u32.to_le_bytes());
        assert!(!sure(&decode(&bad).unwrap(), &valid));
    }
}
