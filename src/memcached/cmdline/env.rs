//! The container's `env`, and `$(VAR)` expansion as Kubernetes does it.

use super::*;

/// A container's environment as far as the manifest tells it.
#[derive(Debug, Clone, PartialEq)]
pub enum EnvValue {
    Literal(String),
    /// `valueFrom` (the source kind: `secretKeyRef`, `fieldRef`, ...).
    Unresolvable(String),
}

#[derive(Debug, Default)]
pub struct EnvMap {
    vars: HashMap<String, EnvValue>,
    /// `envFrom` may define any other name.
    has_env_from: bool,
}

impl EnvMap {
    /// `env` in order, each value expanded with the names defined before it (as
    /// the kubelet does), and whether `envFrom` is present.
    pub fn of(container: &Value) -> EnvMap {
        let mut map = EnvMap {
            vars: HashMap::new(),
            has_env_from: container
                .get("envFrom")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty()),
        };
        if let Some(list) = container.get("env").and_then(Value::as_array) {
            for e in list {
                let Some(name) = e.get("name").and_then(Value::as_str) else {
                    continue;
                };
                let value = if let Some(v) = e.get("value") {
                    let raw = match v {
                        Value::String(s) => s.to_string(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    let (text, unresolved) = map.expand_kubernetes(&raw);
                    match unresolved.first() {
                        Some(u) => EnvValue::Unresolvable(format!("env {u}")),
                        None => EnvValue::Literal(text),
                    }
                } else if let Some(from) = e.get("valueFrom").and_then(Value::as_object) {
                    EnvValue::Unresolvable(
                        from.keys()
                            .next()
                            .map(|k| k.to_string())
                            .unwrap_or_else(|| "valueFrom".into()),
                    )
                } else {
                    EnvValue::Literal(String::new())
                };
                map.vars.insert(name.to_string(), value);
            }
        }
        map
    }

    pub fn get(&self, name: &str) -> Option<&EnvValue> {
        self.vars.get(name)
    }

    /// Could `envFrom` define this name?
    pub fn may_define(&self, name: &str) -> bool {
        self.has_env_from && !self.vars.contains_key(name)
    }

    /// Kubernetes `$(VAR)` expansion: defined names are replaced, `$$` is `$`,
    /// undefined names stay as written. Returns the text and the names whose
    /// value the manifest does not give (`valueFrom`, possibly `envFrom`, or
    /// undefined: the process then sees the literal `$(VAR)`).
    pub fn expand_kubernetes(&self, s: &str) -> (String, Vec<String>) {
        let mut out = String::new();
        let mut unresolved = Vec::new();
        let mut rest = s;
        while let Some(pos) = rest.find('$') {
            out.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            if let Some(stripped) = after.strip_prefix('$') {
                out.push('$');
                rest = stripped;
            } else if let Some(inner) = after.strip_prefix('(') {
                match inner.find(')') {
                    Some(close) => {
                        let name = &inner[..close];
                        match self.vars.get(name) {
                            Some(EnvValue::Literal(v)) => out.push_str(v),
                            _ => {
                                unresolved.push(name.to_string());
                                out.push_str(&format!("$({name})"));
                            }
                        }
                        rest = &inner[close + 1..];
                    }
                    None => {
                        out.push_str("$(");
                        rest = inner;
                    }
                }
            } else {
                out.push('$');
                rest = after;
            }
        }
        out.push_str(rest);
        (out, unresolved)
    }

    /// Why a name cannot be resolved, for messages.
    pub fn why(&self, name: &str) -> String {
        match self.vars.get(name) {
            Some(EnvValue::Unresolvable(kind)) => {
                format!("`{name}` comes from a {kind}")
            }
            Some(EnvValue::Literal(_)) => format!("`{name}` is set"),
            None if self.has_env_from => {
                format!("`{name}` is not in `env`; it may come from `envFrom`")
            }
            None => format!(
                "`{name}` is not defined in `env`, so the process receives the literal `$({name})`"
            ),
        }
    }
}
