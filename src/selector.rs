//! Label selectors as Kubernetes reads and matches them: a Service's plain
//! `spec.selector` map, and `metav1.LabelSelector` (`matchLabels`,
//! `matchExpressions`). Shared by the cross-object rules and the
//! NetworkPolicy evaluator.

use crate::json::{Map, Value};

/// A label value as Kubernetes compares it. Labels are strings; a YAML `yes` or
/// `1` that slipped through is compared by its text (the schema rules report the
/// type).
pub fn label_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.to_string()),
        Value::Bool(_) | Value::Number(_) => Some(v.to_string()),
        _ => None,
    }
}

/// [`label_text`] without a copy when the label is a string.
fn label_cow(v: &Value) -> Option<std::borrow::Cow<'_, str>> {
    match v {
        Value::String(s) => Some(std::borrow::Cow::Borrowed(s)),
        Value::Bool(_) | Value::Number(_) => Some(std::borrow::Cow::Owned(v.to_string())),
        _ => None,
    }
}

/// One `matchExpressions` requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

/// A label selector: `matchLabels` pairs and `matchExpressions`, all of which
/// must hold. A Service's `spec.selector` is the `matchLabels` part alone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    pub labels: Vec<(String, String)>,
    pub expressions: Vec<Requirement>,
}

impl Selector {
    /// A plain map of labels (a Service's or ReplicationController's selector).
    /// `None` when the value is not a map of scalars.
    pub fn from_map(v: &Value) -> Option<Selector> {
        let map = v.as_object()?;
        let mut labels = Vec::with_capacity(map.len());
        for (k, v) in map {
            labels.push((k.to_string(), label_text(v)?));
        }
        Some(Selector {
            labels,
            expressions: Vec::new(),
        })
    }

    /// A `metav1.LabelSelector` (`matchLabels`, `matchExpressions`). `None` when
    /// it is malformed (an unknown operator, a value that is not a list): the
    /// schema rules report those, the cross-object rules skip the object.
    pub fn from_label_selector(v: &Value) -> Option<Selector> {
        let map = v.as_object()?;
        let mut sel = match map.get("matchLabels") {
            None | Some(Value::Null) => Selector::default(),
            Some(m) => Selector::from_map(m)?,
        };
        if let Some(exprs) = map.get("matchExpressions").filter(|e| !e.is_null()) {
            for e in exprs.as_array()? {
                let key = e.get("key")?.as_str()?.to_string();
                let operator = match e.get("operator")?.as_str()? {
                    "In" => Operator::In,
                    "NotIn" => Operator::NotIn,
                    "Exists" => Operator::Exists,
                    "DoesNotExist" => Operator::DoesNotExist,
                    _ => return None,
                };
                let values = match e.get("values") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(vs) => vs
                        .as_array()?
                        .iter()
                        .map(label_text)
                        .collect::<Option<Vec<_>>>()?,
                };
                sel.expressions.push(Requirement {
                    key,
                    operator,
                    values,
                });
            }
        }
        Some(sel)
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.expressions.is_empty()
    }

    /// Does the selector select pods with these labels? An empty selector
    /// selects everything (callers decide whether an empty one is allowed).
    pub fn matches(&self, labels: Option<&Map>) -> bool {
        // The same judgement as `unmet(labels).is_empty()`, without building
        // any text: this runs once per candidate pod template.
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(label_cow);
        self.labels
            .iter()
            .all(|(k, v)| get(k).is_some_and(|have| have == v.as_str()))
            && self
                .expressions
                .iter()
                .all(|r| r.operator.holds(get(&r.key).as_deref(), &r.values))
    }

    /// How many requirements these labels do not meet: `unmet(labels).len()`
    /// without building any text (a selector that selects nothing is
    /// explained by the template closest to it, found by this count among
    /// every template of its namespace).
    pub fn unmet_count(&self, labels: Option<&Map>) -> usize {
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(label_cow);
        self.labels
            .iter()
            .filter(|(k, v)| get(k).is_none_or(|have| have != v.as_str()))
            .count()
            + self
                .expressions
                .iter()
                .filter(|r| !r.operator.holds(get(&r.key).as_deref(), &r.values))
                .count()
    }

    /// The requirements these labels do not meet, as text for messages
    /// (`component=cache (pod has component=proxy)`).
    pub fn unmet(&self, labels: Option<&Map>) -> Vec<String> {
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(label_text);
        let mut out = Vec::new();
        for (k, v) in &self.labels {
            match get(k) {
                Some(have) if &have == v => {}
                Some(have) => out.push(format!("{k}={v} (the pod has {k}={have})")),
                None => out.push(format!("{k}={v} (the pod has no `{k}` label)")),
            }
        }
        for r in &self.expressions {
            let have = get(&r.key);
            let ok = match r.operator {
                Operator::In => have.as_ref().is_some_and(|h| r.values.contains(h)),
                Operator::NotIn => have.as_ref().is_none_or(|h| !r.values.contains(h)),
                Operator::Exists => have.is_some(),
                Operator::DoesNotExist => have.is_none(),
            };
            if !ok {
                let want = match r.operator {
                    Operator::In => format!("{} in ({})", r.key, r.values.join(", ")),
                    Operator::NotIn => format!("{} notin ({})", r.key, r.values.join(", ")),
                    Operator::Exists => r.key.clone(),
                    Operator::DoesNotExist => format!("!{}", r.key),
                };
                let has = match have {
                    Some(h) => format!("the pod has {}={h}", r.key),
                    None => format!("the pod has no `{}` label", r.key),
                };
                out.push(format!("{want} ({has})"));
            }
        }
        out
    }

    /// `a=1,b=2,c in (x, y)` as `kubectl get -l` would take it.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        for r in &self.expressions {
            parts.push(match r.operator {
                Operator::In => format!("{} in ({})", r.key, r.values.join(",")),
                Operator::NotIn => format!("{} notin ({})", r.key, r.values.join(",")),
                Operator::Exists => r.key.clone(),
                Operator::DoesNotExist => format!("!{}", r.key),
            });
        }
        parts.join(",")
    }
}

/// Whether a selector, matched against labels only partly known, holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    Yes,
    No,
    /// It depends on labels the rendering does not show.
    Unknown,
}

impl Operator {
    /// Does a label with this value (`None`: absent) meet the requirement?
    fn holds(self, got: Option<&str>, values: &[String]) -> bool {
        match self {
            Operator::In => got.is_some_and(|g| values.iter().any(|v| v == g)),
            Operator::NotIn => got.is_none_or(|g| values.iter().all(|v| v != g)),
            Operator::Exists => got.is_some(),
            Operator::DoesNotExist => got.is_none(),
        }
    }
}

impl Selector {
    /// Matches labels only partly known: `label(key)` is `Some(value or
    /// None)` when the label is known (set or absent), `None` when unknown.
    pub fn matches_with(&self, label: impl Fn(&str) -> Option<Option<String>>) -> Match {
        let mut unknown = false;
        let requirements = self
            .labels
            .iter()
            .map(|(k, v)| (k, Operator::In, std::slice::from_ref(v)))
            .chain(
                self.expressions
                    .iter()
                    .map(|r| (&r.key, r.operator, r.values.as_slice())),
            );
        for (key, op, values) in requirements {
            let Some(got) = label(key) else {
                unknown = true;
                continue;
            };
            if !op.holds(got.as_deref(), values) {
                return Match::No;
            }
        }
        if unknown { Match::Unknown } else { Match::Yes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unmet_count_is_the_number_of_unmet_requirements() {
        let v = |j: serde_json::Value| -> Value { j.into() };
        let selectors = [
            v(serde_json::json!({"matchLabels": {"app": "a", "tier": "1"}})),
            v(serde_json::json!({"matchExpressions": [
                {"key": "app", "operator": "In", "values": ["a", "b"]},
                {"key": "tier", "operator": "NotIn", "values": ["2"]},
                {"key": "zone", "operator": "Exists"},
                {"key": "old", "operator": "DoesNotExist"}
            ]})),
            v(serde_json::json!({"matchLabels": {"n": "1"},
                "matchExpressions": [{"key": "on", "operator": "In", "values": ["true"]}]})),
        ];
        let label_sets = [
            serde_json::json!(null),
            serde_json::json!({}),
            serde_json::json!({"app": "a", "tier": "1"}),
            serde_json::json!({"app": "b", "tier": 2, "zone": "z", "old": "x"}),
            serde_json::json!({"n": 1, "on": true}),
            serde_json::json!({"n": "1", "on": "false", "app": "c"}),
        ];
        for sel in &selectors {
            let sel = Selector::from_label_selector(sel).unwrap();
            for labels in &label_sets {
                let labels = v(labels.clone());
                let map = labels.as_object();
                assert_eq!(
                    sel.unmet_count(map),
                    sel.unmet(map).len(),
                    "{labels:?} {:?}",
                    sel.unmet(map)
                );
                assert_eq!(sel.unmet_count(map) == 0, sel.matches(map));
            }
        }
    }
}
