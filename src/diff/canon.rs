//! Canonical text of an object for diffing: mapping keys sorted, one YAML-ish
//! line per scalar, multi-line strings as literal blocks (so a changed line of
//! an embedded proxy config shows as one changed line). Key order and quoting
//! style of the input never show up as changes.

use crate::json::Value;

/// The canonical text of `value`, ending with a newline.
pub fn canonical(value: &Value) -> String {
    let mut lines = Vec::new();
    match value {
        Value::Object(_) | Value::Array(_) => emit(value, 0, &mut lines),
        other => lines.push(scalar(other)),
    }
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

fn emit(value: &Value, indent: usize, out: &mut Vec<String>) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&crate::json::Str> = map.keys().collect();
            keys.sort();
            for k in keys {
                let key = key_text(k);
                entry(
                    &format!("{pad}{key}:"),
                    map.get(k).unwrap_or(&Value::Null),
                    indent,
                    out,
                );
            }
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(m) if !m.is_empty() => item_block(item, indent, out),
                    Value::Array(a) if !a.is_empty() => item_block(item, indent, out),
                    _ => entry(&format!("{pad}-"), item, indent, out),
                }
            }
        }
        other => out.push(format!("{pad}{}", scalar(other))),
    }
}

/// A sequence item that is itself a collection: its first line shares the
/// `- ` marker, the way YAML is usually written.
fn item_block(item: &Value, indent: usize, out: &mut Vec<String>) {
    let start = out.len();
    emit(item, indent + 2, out);
    if let Some(first) = out.get_mut(start) {
        let pad = " ".repeat(indent);
        *first = format!("{pad}- {}", &first[indent + 2..]);
    }
}

/// `head` is `key:` or `-`; writes the value after it.
fn entry(head: &str, value: &Value, indent: usize, out: &mut Vec<String>) {
    match value {
        Value::Object(m) if m.is_empty() => out.push(format!("{head} {{}}")),
        Value::Array(a) if a.is_empty() => out.push(format!("{head} []")),
        Value::Object(_) => {
            out.push(head.to_string());
            emit(value, indent + 2, out);
        }
        Value::Array(_) => {
            out.push(head.to_string());
            emit(value, indent + 2, out);
        }
        Value::String(s) if s.contains('\n') => {
            let chomp = if s.ends_with('\n') { "" } else { "-" };
            out.push(format!("{head} |{chomp}"));
            let pad = " ".repeat(indent + 2);
            for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
                if line.is_empty() {
                    out.push(String::new());
                } else {
                    out.push(format!("{pad}{line}"));
                }
            }
        }
        other => out.push(format!("{head} {}", scalar(other))),
    }
}

fn key_text(k: &str) -> String {
    if needs_quotes(k) {
        Value::String(k.into()).to_string()
    } else {
        k.to_string()
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if needs_quotes(s) => Value::String(s.clone()).to_string(),
        Value::String(s) => s.to_string(),
        Value::Object(_) | Value::Array(_) => v.to_string(),
    }
}

/// Would this string read back as something else (or not at all) unquoted?
fn needs_quotes(s: &str) -> bool {
    if s.is_empty() || s.trim() != s {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "null" | "~" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
    ) {
        return true;
    }
    if s.parse::<f64>().is_ok() || s.starts_with(['0', '+', '-', '.']) && s.len() > 1 {
        return true;
    }
    if s.starts_with([
        '!', '&', '*', '{', '}', '[', ']', ',', '#', '|', '>', '@', '`', '"', '\'', '%', '?', '-',
        ':',
    ]) {
        return true;
    }
    s.contains(": ") || s.contains(" #") || s.ends_with(':') || s.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_value as json;

    #[test]
    fn key_order_does_not_matter() {
        let a = json!({"b": 1, "a": {"y": [1, 2], "x": "s"}});
        let b = json!({"a": {"x": "s", "y": [1, 2]}, "b": 1});
        assert_eq!(canonical(&a), canonical(&b));
    }

    #[test]
    fn reads_like_yaml() {
        let v = json!({
            "kind": "ConfigMap",
            "data": {"proxy.lua": "pools {\n  a = 1,\n}\n", "num": "3", "e": ""},
            "list": [{"name": "a", "port": 1}, "x", [], {}],
        });
        assert_eq!(
            canonical(&v),
            "data:\n  e: \"\"\n  num: \"3\"\n  proxy.lua: |\n    pools {\n      a = 1,\n    }\nkind: ConfigMap\nlist:\n  - name: a\n    port: 1\n  - x\n  - []\n  - {}\n"
        );
    }

    #[test]
    fn quotes_what_would_change_meaning() {
        for s in ["yes", "1.5", "", " x", "a: b", "-x", "#c", "on"] {
            assert!(needs_quotes(s), "{s:?}");
        }
        for s in ["memcached", "a-b", "10.0.0.1:11211x", "ClusterIP"] {
            assert!(!needs_quotes(s), "{s:?}");
        }
    }
}
