//! What the cross-object rules share: label selectors, the pod templates of a
//! rendering, and the Services and ConfigMaps they refer to.
//!
//! Objects with no `metadata.namespace` count as `default`, where
//! `kubectl apply` without `-n` puts them.
//!
//! Lookups go through an [`Index`] built once per run (by kind, namespace and
//! name; pod templates by namespace and label; selecting Services by their
//! first selector label), so no rule is quadratic in the number of objects.

use crate::json::{Map, Value};

use super::Context;
use crate::k8s;
use crate::manifest::Object;

pub use crate::selector::{Operator, Requirement, Selector, label_text};

/// The pod template of a workload (or a bare Pod).
pub struct PodTemplate<'c, 'a> {
    pub obj: &'c Object<'a>,
    /// JSON pointer to the pod spec (`/spec/template/spec`).
    pub spec_pointer: &'static str,
    pub spec: &'c Value,
    pub labels: Option<&'c Map>,
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
    let memo = k8s::pod_memo(obj)?;
    let (spec_pointer, spec) = (memo.spec_pointer, memo.spec);
    let labels = *memo.labels.get_or_init(|| {
        k8s::pod_metadata_pointer(&obj.kind)
            .and_then(|p| crate::manifest::json_at(obj.json, p))
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object)
    });
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
/// In input order, with the selectors the index parsed once.
pub fn selecting_services<'c, 'a>(
    ctx: &'c Context<'a>,
) -> impl Iterator<Item = (&'c Object<'a>, &'c Selector)> {
    index(ctx)
        .services
        .iter()
        .map(|(i, sel)| (&ctx.objects[*i], sel))
}

/// The selector of a Service that routes to pods (see [`selecting_services`]).
fn service_selector(svc: &Object) -> Option<Selector> {
    if svc.kind != "Service"
        || crate::manifest::json_at(svc.json, "/spec/type").and_then(Value::as_str)
            == Some("ExternalName")
    {
        return None;
    }
    let sel = crate::manifest::json_at(svc.json, "/spec/selector").and_then(Selector::from_map)?;
    (!sel.is_empty()).then_some(sel)
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
            let name = crate::manifest::json_at(sts.json, "/spec/serviceName")?.as_str()?;
            Some((sts, name))
        })
}

/// The Service called `name` in `obj`'s namespace, if the rendering has one.
pub fn service_in_namespace_of<'c, 'a>(
    ctx: &'c Context<'a>,
    obj: &'c Object<'a>,
    name: &str,
) -> Option<&'c Object<'a>> {
    object_named(ctx, "Service", obj.effective_namespace(), name)
}

/// What cross-object rules look objects up by. Positions are indexes into
/// [`pod_templates`] (in input order) and into `ctx.objects`; each lookup
/// answers in input order, so an indexed lookup finds what a scan in input
/// order found.
///
/// Keys are held as their 64-bit hash only (see [`Filed`]): a lookup may
/// answer a position filed under another key of the same hash, so every
/// answer is checked against the object itself before it is used.
#[derive(Debug, Default)]
pub struct Index {
    /// Drawn at random per run, so input cannot be crafted to collide.
    hasher: foldhash::quality::RandomState,
    /// `(kind, namespace, name)` → objects.
    by_name: Filed,
    /// namespace → pod templates.
    templates_in: Filed,
    /// `(namespace, key, value)` → pod templates with that label.
    templates_by_label: Filed,
    /// `(key, value)` → pod templates with that label, in any namespace:
    /// asked for only to explain a selector that selects nothing, so built
    /// then ([`Index::templates_by_label_anywhere`]).
    templates_by_label_anywhere: std::cell::OnceCell<Filed>,
    /// `(kind, name)` → objects, in any namespace: asked for only to say
    /// that a missing object exists in another namespace, so built then
    /// ([`object_named_anywhere`]).
    by_name_anywhere: std::cell::OnceCell<Filed>,
    /// Selecting Services: (object, selector), in input order.
    services: Vec<(usize, Selector)>,
    /// `(namespace, key, value)` of one label of each selecting Service's
    /// selector (the one fewest pod templates carry) → positions in
    /// `services`.
    services_by_label: Filed,
}

/// Positions filed under keys, held as (hash of the key, position) pairs
/// sorted once: 16 bytes a position, where a map from key strings to lists
/// held a copy of every key and a list for each (about 150 bytes an object).
/// The positions under one hash come out in input order.
///
/// A directory by the top bits of the hash (about one bucket a pair, 4
/// bytes each) narrows a lookup to a few neighbouring pairs: a binary search
/// over every pair of a large stream took a cache miss at each of its
/// twenty steps, and rules look up once or more per object.
#[derive(Debug, Default)]
struct Filed {
    pairs: Vec<(u64, usize)>,
    /// `starts[b]..starts[b + 1]`: the pairs whose hash has `b` in its top
    /// `bits` bits. Empty before [`Filed::finish`] (every pair is searched).
    starts: Vec<u32>,
    bits: u32,
}

impl Filed {
    fn push(&mut self, hash: u64, position: usize) {
        self.pairs.push((hash, position));
    }

    /// Sorts the pairs by hash, each hash's positions in order, gives back
    /// the room and builds the directory.
    fn finish(mut self) -> Filed {
        self.pairs.sort_unstable();
        self.pairs.shrink_to_fit();
        self.starts = Vec::new();
        self.bits = 0;
        // Positions in the directory are 32-bit: a larger list is searched
        // whole (no input the size limits let through comes near).
        if u32::try_from(self.pairs.len()).is_err() {
            return self;
        }
        // At most one bucket a pair: 2^bits <= pairs.
        self.bits = self.pairs.len().max(1).ilog2();
        let buckets = 1usize << self.bits;
        self.starts = Vec::with_capacity(buckets + 1);
        let mut at = 0;
        for b in 0..buckets {
            while at < self.pairs.len() && self.bucket(self.pairs[at].0) < b {
                at += 1;
            }
            self.starts.push(at as u32);
        }
        self.starts.push(self.pairs.len() as u32);
        self
    }

    /// The directory bucket of `hash`: its top `bits` bits.
    fn bucket(&self, hash: u64) -> usize {
        hash.checked_shr(64 - self.bits).unwrap_or(0) as usize
    }

    /// The positions filed under `hash`, in input order.
    fn get(&self, hash: u64) -> impl ExactSizeIterator<Item = usize> + Clone + '_ {
        let near = match self.starts.is_empty() {
            true => &self.pairs[..],
            false => {
                let b = self.bucket(hash);
                &self.pairs[self.starts[b] as usize..self.starts[b + 1] as usize]
            }
        };
        let start = near.partition_point(|&(h, _)| h < hash);
        let len = near[start..].partition_point(|&(h, _)| h == hash);
        near[start..start + len].iter().map(|&(_, p)| p)
    }
}

impl Index {
    fn key(&self, a: &str, b: &str, c: &str) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one((a, b, c))
    }

    fn build(ctx: &Context) -> Index {
        let mut index = Index::default();
        let mut by_name = Filed::default();
        for (i, o) in ctx.objects.iter().enumerate() {
            by_name.push(index.key(&o.kind, o.effective_namespace(), &o.name), i);
        }
        index.by_name = by_name.finish();
        let (mut templates_in, mut by_label) = (Filed::default(), Filed::default());
        for (i, t) in pod_templates(ctx).iter().enumerate() {
            let ns = t.namespace();
            templates_in.push(index.key(ns, "", ""), i);
            for (k, v) in t.labels.into_iter().flatten() {
                let Some(v) = label_text(v) else { continue };
                by_label.push(index.key(ns, k, &v), i);
            }
        }
        index.templates_in = templates_in.finish();
        index.templates_by_label = by_label.finish();
        let mut services_by_label = Filed::default();
        for (i, svc) in ctx.objects.iter().enumerate() {
            let Some(sel) = service_selector(svc) else {
                continue;
            };
            let at = index.services.len();
            // A template the Service selects carries every label of the
            // selector, so filing it under any one of them finds it; under the
            // rarest one, each template compares the fewest Services (a label
            // every pod has, `component=cache` say, would make it quadratic).
            let ns = svc.effective_namespace();
            let rarest = sel
                .labels
                .iter()
                .map(|(k, v)| index.key(ns, k, v))
                .min_by_key(|&key| index.templates_by_label.get(key).len());
            if let Some(key) = rarest {
                services_by_label.push(key, at);
            }
            index.services.push((i, sel));
        }
        index.services.shrink_to_fit();
        index.services_by_label = services_by_label.finish();
        index
    }

    fn templates_by_label_anywhere(&self, ctx: &Context) -> &Filed {
        self.templates_by_label_anywhere.get_or_init(|| {
            let mut filed = Filed::default();
            for (i, t) in pod_templates(ctx).iter().enumerate() {
                for (k, v) in t.labels.into_iter().flatten() {
                    let Some(v) = label_text(v) else { continue };
                    filed.push(self.key("", k, &v), i);
                }
            }
            filed.finish()
        })
    }
}

/// The index of the rendering, built on first use.
pub fn index<'c>(ctx: &'c Context) -> &'c Index {
    ctx.index.get_or_init(|| Index::build(ctx))
}

/// The first object of `kind` called `name` in any namespace, in input order.
pub fn object_named_anywhere<'c, 'a>(
    ctx: &'c Context<'a>,
    kind: &str,
    name: &str,
) -> Option<&'c Object<'a>> {
    let index = index(ctx);
    let filed = index.by_name_anywhere.get_or_init(|| {
        let mut filed = Filed::default();
        for (i, o) in ctx.objects.iter().enumerate() {
            filed.push(index.key(&o.kind, "", &o.name), i);
        }
        filed.finish()
    });
    filed
        .get(index.key(kind, "", name))
        .map(|i| &ctx.objects[i])
        .find(|o| o.kind == kind && o.name == name)
}

/// The first object of `kind` called `name` in namespace `ns`, in input order.
pub fn object_named<'c, 'a>(
    ctx: &'c Context<'a>,
    kind: &str,
    ns: &str,
    name: &str,
) -> Option<&'c Object<'a>> {
    let index = index(ctx);
    index
        .by_name
        .get(index.key(kind, ns, name))
        .map(|i| &ctx.objects[i])
        .find(|o| o.kind == kind && o.effective_namespace() == ns && o.name == name)
}

/// Positions (in `templates`, which is [`pod_templates`]) of the pod
/// templates of namespace `ns`, in input order.
pub fn templates_in(ctx: &Context, templates: &[PodTemplate], ns: &str) -> Vec<usize> {
    let index = index(ctx);
    index
        .templates_in
        .get(index.key(ns, "", ""))
        .filter(|&i| templates[i].namespace() == ns)
        .collect()
}

/// Positions (in `templates`, which is [`pod_templates`]) of the templates in
/// namespace `ns` that `sel` selects (`None` for `ns`: any namespace), in
/// input order. An empty selector selects every template of the namespace.
pub fn templates_selected(
    ctx: &Context,
    templates: &[PodTemplate],
    ns: Option<&str>,
    sel: &Selector,
) -> Vec<usize> {
    let index = index(ctx);
    // The candidates are the templates carrying the selector's rarest label
    // (every selected template carries all of them), in input order.
    let by_label = match ns {
        Some(_) => &index.templates_by_label,
        None => index.templates_by_label_anywhere(ctx),
    };
    let rarest = sel
        .labels
        .iter()
        .map(|(k, v)| by_label.get(index.key(ns.unwrap_or(""), k, v)))
        .min_by_key(|list| list.len());
    let candidates: Box<dyn Iterator<Item = usize>> = match (rarest, ns) {
        (Some(list), _) => Box::new(list),
        (None, Some(ns)) => Box::new(templates_in(ctx, templates, ns).into_iter()),
        (None, None) => Box::new(0..templates.len()),
    };
    let mut selected: Vec<usize> = candidates
        .filter(|&i| {
            let t = &templates[i];
            ns.is_none_or(|ns| t.namespace() == ns) && sel.matches(t.labels)
        })
        .collect();
    // A template two of whose labels share a hash is filed twice under it;
    // positions come in input order, so a repeat is next to its first.
    selected.dedup();
    selected
}

/// The selecting Services (see [`selecting_services`]) that select the pods
/// of `t`: in its namespace, every label of the selector on the template. In
/// input order.
pub fn services_selecting<'c, 'a>(
    ctx: &'c Context<'a>,
    t: &PodTemplate,
) -> Vec<(&'c Object<'a>, &'c Selector)> {
    let index = index(ctx);
    let ns = t.namespace();
    let mut found: Vec<usize> = Vec::new();
    for (k, v) in t.labels.into_iter().flatten() {
        let Some(v) = label_text(v) else { continue };
        found.extend(
            index
                .services_by_label
                .get(index.key(ns, k, &v))
                .filter(|&s| {
                    let (o, sel) = &index.services[s];
                    ctx.objects[*o].effective_namespace() == ns && sel.matches(t.labels)
                }),
        );
    }
    // A Service is filed under one label only, so each is found at most
    // once, unless two of the template's labels share a hash.
    found.sort_unstable();
    found.dedup();
    found
        .into_iter()
        .map(|s| {
            let (o, sel) = &index.services[s];
            (&ctx.objects[*o], sel)
        })
        .collect()
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
    // Counted without text; the text only for the closest.
    templates
        .iter()
        .map(|t| (t, selector.unmet_count(t.labels)))
        .filter(|&(_, unmet)| unmet < total)
        .min_by_key(|&(_, unmet)| unmet)
        .map(|(t, _)| {
            format!(
                "the closest, {}, misses {}",
                t.obj.reference(),
                selector.unmet(t.labels).join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_value as json;

    fn labels(v: Value) -> Map {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn filed_positions_come_out_by_hash_in_input_order() {
        let mut f = Filed::default();
        for (hash, position) in [(5, 0), (3, 1), (5, 2), (3, 3), (9, 4)] {
            f.push(hash, position);
        }
        let f = f.finish();
        assert_eq!(f.get(5).collect::<Vec<_>>(), [0, 2]);
        assert_eq!(f.get(3).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(f.get(9).len(), 1);
        assert_eq!(f.get(4).len(), 0);
        assert_eq!(f.get(u64::MAX).len(), 0);
    }

    #[test]
    fn the_directory_finds_what_a_search_of_every_pair_finds() {
        // Hashes spread over the whole range and bunched at both ends, each
        // filed once to three times, for lists of 0 to 300 pairs.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for n in [0usize, 1, 2, 3, 7, 64, 300] {
            let mut f = Filed::default();
            let mut hashes = Vec::new();
            for i in 0..n {
                let h = match i % 4 {
                    0 => i as u64,
                    1 => u64::MAX - i as u64,
                    _ => next(),
                };
                for _ in 0..=(i % 3) {
                    f.push(h, f.pairs.len());
                }
                hashes.push(h);
            }
            let unfinished: Vec<(u64, usize)> = {
                let mut p = f.pairs.clone();
                p.sort_by_key(|&(h, _)| h);
                p
            };
            let f = f.finish();
            assert!(f.starts.len() <= f.pairs.len().max(1) + 1);
            for h in hashes.into_iter().chain([next(), 0, u64::MAX, 1 << 63]) {
                let want: Vec<usize> = unfinished
                    .iter()
                    .filter(|p| p.0 == h)
                    .map(|p| p.1)
                    .collect();
                assert_eq!(f.get(h).collect::<Vec<_>>(), want, "{n} pairs, hash {h:#x}");
            }
        }
    }

    #[test]
    fn a_position_filed_under_a_colliding_hash_is_not_taken_for_the_key() {
        let input = crate::manifest::Input {
            name: "t.yaml".into(),
            kind: crate::manifest::InputKind::Yaml,
            text: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: ns}\n---\n\
                   apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: ns}\n"
                .into(),
        };
        let docs = crate::manifest::parse_stream(&input);
        let rendering =
            || crate::rendering::Rendering::new(&docs, &[], crate::rendering::Settings::default());
        let ctx = Context::new(rendering());
        assert_eq!(
            &*object_named(&ctx, "ConfigMap", "ns", "b").unwrap().name,
            "b"
        );
        // `a` filed under the hash of (ConfigMap, ns, b) too, ahead of `b`,
        // as a collision would file it: the lookup still answers `b`.
        let mut index = Index::build(&ctx);
        let key = index.key("ConfigMap", "ns", "b");
        index.by_name.pairs.insert(0, (key, 0));
        index.by_name = std::mem::take(&mut index.by_name).finish();
        let tampered = Context::new(rendering());
        tampered.index.set(index).unwrap();
        assert_eq!(
            &*object_named(&tampered, "ConfigMap", "ns", "b")
                .unwrap()
                .name,
            "b"
        );
        assert_eq!(
            &*object_named(&tampered, "ConfigMap", "ns", "a")
                .unwrap()
                .name,
            "a"
        );
        assert!(object_named(&tampered, "ConfigMap", "ns", "c").is_none());
    }

    #[test]
    fn a_template_filed_twice_under_one_hash_is_selected_once() {
        let input = crate::manifest::Input {
            name: "t.yaml".into(),
            kind: crate::manifest::InputKind::Yaml,
            text: "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns, labels: {a: x}}\n\
                   spec: {containers: [{name: c, image: i}]}\n"
                .into(),
        };
        let docs = crate::manifest::parse_stream(&input);
        let rendering =
            || crate::rendering::Rendering::new(&docs, &[], crate::rendering::Settings::default());
        let ctx = Context::new(rendering());
        let templates = pod_templates(&ctx);
        let sel = Selector::from_map(&crate::json_value!({"a": "x"})).unwrap();
        assert_eq!(templates_selected(&ctx, &templates, Some("ns"), &sel), [0]);
        // As if a second label of the pod had the same hash as `a=x`.
        let mut index = Index::build(&ctx);
        let key = index.key("ns", "a", "x");
        index.templates_by_label.pairs.push((key, 0));
        index.templates_by_label = std::mem::take(&mut index.templates_by_label).finish();
        let tampered = Context::new(rendering());
        tampered.index.set(index).unwrap();
        assert_eq!(
            templates_selected(&tampered, &templates, Some("ns"), &sel),
            [0]
        );
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
