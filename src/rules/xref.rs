//! What the cross-object rules share: label selectors, the pod templates of a
//! rendering, and the Services and ConfigMaps they refer to.
//!
//! Objects with no `metadata.namespace` count as `default`, where
//! `kubectl apply` without `-n` puts them.

use serde_json::{Map, Value};

use super::Context;
use crate::k8s;
use crate::manifest::Object;

/// A label value as Kubernetes compares it. Labels are strings; a YAML `yes` or
/// `1` that slipped through is compared by its text (the schema rules report the
/// type).
pub fn label_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(_) | Value::Number(_) => Some(v.to_string()),
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
            labels.push((k.clone(), label_text(v)?));
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
    pub fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        self.unmet(labels).is_empty()
    }

    /// The requirements these labels do not meet, as text for messages
    /// (`component=cache (pod has component=proxy)`).
    pub fn unmet(&self, labels: Option<&Map<String, Value>>) -> Vec<String> {
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

/// The pod template of a workload (or a bare Pod).
pub struct PodTemplate<'c, 'a> {
    pub obj: &'c Object<'a>,
    /// JSON pointer to the pod spec (`/spec/template/spec`).
    pub spec_pointer: &'static str,
    pub spec: &'c Value,
    pub labels: Option<&'c Map<String, Value>>,
}

impl PodTemplate<'_, '_> {
    pub fn namespace(&self) -> &str {
        self.obj.effective_namespace()
    }

    pub fn containers(&self) -> Vec<k8s::Container<'_>> {
        k8s::containers(self.obj)
    }

    /// `volumes` of the pod spec: (index, name, volume).
    pub fn volumes(&self) -> Vec<(usize, &str, &Value)> {
        self.spec
            .get("volumes")
            .and_then(Value::as_array)
            .map(|vs| {
                vs.iter()
                    .enumerate()
                    .filter_map(|(i, v)| Some((i, v.get("name")?.as_str()?, v)))
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub fn pod_template<'c, 'a>(obj: &'c Object<'a>) -> Option<PodTemplate<'c, 'a>> {
    let (spec_pointer, spec) = k8s::pod_spec(obj)?;
    let labels = k8s::pod_metadata_pointer(&obj.kind)
        .and_then(|p| obj.json.pointer(p))
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object);
    Some(PodTemplate {
        obj,
        spec_pointer,
        spec,
        labels,
    })
}

/// Every pod template of the rendering, in input order.
pub fn pod_templates<'c, 'a>(ctx: &'c Context<'a>) -> Vec<PodTemplate<'c, 'a>> {
    ctx.objects.iter().filter_map(pod_template).collect()
}

/// Objects of a kind (core or any group) in a namespace.
pub fn objects_of<'c, 'a>(
    ctx: &'c Context<'a>,
    kind: &'c str,
    namespace: &'c str,
) -> impl Iterator<Item = &'c Object<'a>> {
    ctx.objects
        .iter()
        .filter(move |o| o.kind == kind && o.effective_namespace() == namespace)
}

/// Services that route to pods: every Service but `ExternalName` ones, with
/// its `spec.selector` when that is a map with at least one label.
pub fn selecting_services<'c, 'a>(
    ctx: &'c Context<'a>,
) -> impl Iterator<Item = (&'c Object<'a>, Selector)> {
    ctx.objects
        .iter()
        .filter(|o| o.kind == "Service")
        .filter(|svc| {
            svc.json.pointer("/spec/type").and_then(Value::as_str) != Some("ExternalName")
        })
        .filter_map(|svc| {
            let sel = svc
                .json
                .pointer("/spec/selector")
                .and_then(Selector::from_map)?;
            (!sel.is_empty()).then_some((svc, sel))
        })
}

/// StatefulSets that name a governing Service, each with the text of its
/// `spec.serviceName` (possibly empty).
pub fn statefulset_service_names<'c, 'a>(
    ctx: &'c Context<'a>,
) -> impl Iterator<Item = (&'c Object<'a>, &'c str)> {
    ctx.objects
        .iter()
        .filter(|o| o.kind == "StatefulSet")
        .filter_map(|sts| {
            let name = sts.json.pointer("/spec/serviceName")?.as_str()?;
            Some((sts, name))
        })
}

/// The Service called `name` in `obj`'s namespace, if the rendering has one.
pub fn service_in_namespace_of<'c, 'a>(
    ctx: &'c Context<'a>,
    obj: &'c Object<'a>,
    name: &str,
) -> Option<&'c Object<'a>> {
    objects_of(ctx, "Service", obj.effective_namespace()).find(|s| s.name == name)
}

/// `Kind name` for messages, with the template it came from when helm said.
pub fn describe(obj: &Object) -> String {
    let r = obj.reference();
    match &obj.doc.source {
        Some(s) => format!("{r} ({s})"),
        None => r.to_string(),
    }
}

/// The best explanation of why `selector` selects none of `templates`: the
/// template meeting the most requirements, and what it misses.
pub fn nearest_miss(selector: &Selector, templates: &[&PodTemplate]) -> Option<String> {
    let total = selector.labels.len() + selector.expressions.len();
    templates
        .iter()
        .map(|t| (t, selector.unmet(t.labels)))
        .filter(|(_, unmet)| unmet.len() < total)
        .min_by_key(|(_, unmet)| unmet.len())
        .map(|(t, unmet)| {
            format!(
                "the closest, {}, misses {}",
                t.obj.reference(),
                unmet.join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn match_labels_and_expressions() {
        let sel = Selector::from_label_selector(&json!({
            "matchLabels": {"app": "mc"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["cache", "proxy"]},
                {"key": "canary", "operator": "DoesNotExist"},
                {"key": "zone", "operator": "NotIn", "values": ["b"]},
                {"key": "app", "operator": "Exists"}
            ]
        }))
        .unwrap();
        assert!(sel.matches(Some(&labels(json!({"app": "mc", "tier": "cache"})))));
        assert!(sel.matches(Some(&labels(
            json!({"app": "mc", "tier": "proxy", "zone": "a"})
        ))));
        assert!(!sel.matches(Some(&labels(json!({"app": "mc", "tier": "db"})))));
        assert!(!sel.matches(Some(&labels(
            json!({"app": "mc", "tier": "cache", "canary": "1"})
        ))));
        assert!(!sel.matches(Some(&labels(
            json!({"app": "mc", "tier": "cache", "zone": "b"})
        ))));
        assert!(!sel.matches(None));
        let unmet = sel.unmet(Some(&labels(json!({"app": "x", "tier": "cache"}))));
        assert_eq!(unmet, vec!["app=mc (the pod has app=x)".to_string()]);
    }

    #[test]
    fn empty_selects_all_and_bad_operators_are_refused() {
        let sel = Selector::from_label_selector(&json!({})).unwrap();
        assert!(sel.is_empty() && sel.matches(None));
        assert!(
            Selector::from_label_selector(
                &json!({"matchExpressions": [{"key": "a", "operator": "Near"}]})
            )
            .is_none()
        );
        assert!(Selector::from_map(&json!({"a": {"b": 1}})).is_none());
        assert_eq!(
            Selector::from_map(&json!({"a": "1", "b": true}))
                .unwrap()
                .describe(),
            "a=1,b=true"
        );
    }
}
