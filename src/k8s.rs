//! Where things live inside Kubernetes objects: pod templates and containers.

use crate::json::Value;

use crate::manifest::{Object, PodMemo};

/// The pointer to an object's pod spec, for every kind that has one.
pub fn pod_spec_pointer(kind: &str) -> Option<&'static str> {
    match kind {
        "Pod" => Some("/spec"),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => Some("/spec/template/spec"),
        "CronJob" => Some("/spec/jobTemplate/spec/template/spec"),
        _ => None,
    }
}

/// The pointer to the pod template's metadata (labels), for workload kinds.
pub fn pod_metadata_pointer(kind: &str) -> Option<&'static str> {
    match kind {
        "Pod" => Some("/metadata"),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => Some("/spec/template/metadata"),
        "CronJob" => Some("/spec/jobTemplate/spec/template/metadata"),
        _ => None,
    }
}

pub fn pod_spec<'a>(obj: &Object<'a>) -> Option<(&'static str, &'a Value)> {
    pod_memo(obj).map(|m| (m.spec_pointer, m.spec))
}

/// What is read once of the object's pod spec, when it has one.
pub fn pod_memo<'o, 'a>(obj: &'o Object<'a>) -> Option<&'o PodMemo<'a>> {
    obj.memo
        .pod
        .get_or_init(|| {
            let p = pod_spec_pointer(&obj.kind)?;
            let json: &'a Value = obj.json;
            let spec = crate::manifest::json_at(json, p).filter(|v| v.is_object())?;
            Some(Box::new(PodMemo {
                spec_pointer: p,
                spec,
                containers: std::cell::OnceCell::new(),
                labels: std::cell::OnceCell::new(),
            }))
        })
        .as_deref()
}

/// A container of a pod template.
#[derive(Debug, Clone)]
pub struct Container<'a> {
    /// JSON pointer to the pod spec (`/spec/template/spec`).
    pub spec_pointer: &'static str,
    /// `initContainers` or `containers`.
    pub field: &'static str,
    /// Position in that list.
    pub index: usize,
    pub name: &'a str,
    pub json: &'a Value,
    /// Listed under `initContainers`.
    pub init: bool,
    /// An init container with `restartPolicy: Always`: a native sidecar that runs
    /// for the pod's whole life.
    pub sidecar: bool,
}

impl Container<'_> {
    /// JSON pointer to the container (`/spec/template/spec/initContainers/1`).
    pub fn pointer(&self) -> String {
        format!("{}/{}/{}", self.spec_pointer, self.field, self.index)
    }

    /// Runs for the pod's life (a regular container or a native sidecar).
    pub fn long_running(&self) -> bool {
        !self.init || self.sidecar
    }

    pub fn image(&self) -> Option<&str> {
        self.json.get("image").and_then(Value::as_str)
    }

    pub fn strings(&self, field: &str) -> Vec<String> {
        self.json
            .get(field)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|v| match v {
                        Value::String(s) => s.to_string(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Declared container ports: (name, port, protocol).
    pub fn ports(&self) -> Vec<(Option<&str>, i64, &str)> {
        self.json
            .get("ports")
            .and_then(Value::as_array)
            .map(|ports| {
                ports
                    .iter()
                    .filter_map(|p| {
                        Some((
                            p.get("name").and_then(Value::as_str),
                            p.get("containerPort")?.as_i64()?,
                            p.get("protocol").and_then(Value::as_str).unwrap_or("TCP"),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The value of an env var set literally (`value:`), for `$(VAR)` expansion.
    pub fn env(&self, name: &str) -> Option<&str> {
        self.json
            .get("env")?
            .as_array()?
            .iter()
            .find(|e| e.get("name").and_then(Value::as_str) == Some(name))?
            .get("value")?
            .as_str()
    }
}

/// Every container of the object's pod template: init containers first, then
/// containers (ephemeral containers are not part of templates).
pub fn containers<'a>(obj: &Object<'a>) -> Vec<Container<'a>> {
    let Some(memo) = pod_memo(obj) else {
        return Vec::new();
    };
    let (base, spec) = (memo.spec_pointer, memo.spec);
    let listed = memo.containers.get_or_init(|| {
        let mut out = Vec::new();
        for field in ["initContainers", "containers"] {
            if let Some(list) = spec.get(field).and_then(Value::as_array) {
                out.extend(list.iter().enumerate().map(|(i, c)| (field, i, c)));
            }
        }
        // Held as long as the object: no room past what it holds.
        out.into_boxed_slice()
    });
    listed
        .iter()
        .map(|&(field, index, c)| {
            let init = field == "initContainers";
            Container {
                spec_pointer: base,
                field,
                index,
                name: c.get("name").and_then(Value::as_str).unwrap_or(""),
                json: c,
                init,
                sidecar: init && c.get("restartPolicy").and_then(Value::as_str) == Some("Always"),
            }
        })
        .collect()
}

/// Does `selector` (matchLabels-style map) select `labels`?
pub fn selects(selector: &crate::json::Map, labels: Option<&crate::json::Map>) -> bool {
    if selector.is_empty() {
        return false;
    }
    let Some(labels) = labels else { return false };
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The zone a workload's pods are pinned to: a `nodeSelector` entry on a zone
/// label, or a required node affinity whose every term holds `<zone label> In
/// [zone]` with one value, the same in each term. Zone labels are
/// `topology.kubernetes.io/zone`, the deprecated
/// `failure-domain.beta.kubernetes.io/zone`, and any label whose name (after
/// the prefix) contains `zone`. Returns (label, zone).
pub fn pinned_zone(obj: &Object) -> Option<(String, String)> {
    let (_, spec) = pod_spec(obj)?;
    if let Some(sel) = spec.get("nodeSelector").and_then(Value::as_object) {
        let mut zoned = sel
            .iter()
            .filter(|(k, _)| is_zone_label(k))
            .filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string())));
        if let Some(found) = zoned.next() {
            return Some(found);
        }
    }
    let terms = spec
        .get("affinity")?
        .get("nodeAffinity")?
        .get("requiredDuringSchedulingIgnoredDuringExecution")?
        .get("nodeSelectorTerms")?
        .as_array()?;
    let mut found: Option<(String, String)> = None;
    for term in terms {
        let exprs = term.get("matchExpressions").and_then(Value::as_array)?;
        let here = exprs.iter().find_map(|e| {
            let key = e.get("key")?.as_str()?;
            let values = e.get("values")?.as_array()?;
            (is_zone_label(key) && e.get("operator")?.as_str()? == "In" && values.len() == 1)
                .then(|| Some((key.to_string(), values[0].as_str()?.to_string())))?
        })?;
        match &found {
            Some(f) if *f != here => return None,
            _ => found = Some(here),
        }
    }
    found
}

/// Is `key` a node label that names a zone?
pub fn is_zone_label(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    key == "topology.kubernetes.io/zone"
        || key == "failure-domain.beta.kubernetes.io/zone"
        || name
            .as_bytes()
            .windows(4)
            .any(|w| w.eq_ignore_ascii_case(b"zone"))
}

/// The volume mount of a container (its JSON) that holds `path`: the most
/// specific one, as in the container's mount table, with `path` relative to
/// its mount point ("" for the mount point itself).
pub fn mount_holding<'a>(container: &'a Value, path: &str) -> Option<(&'a Value, String)> {
    let mut best: Option<(&Value, String, usize)> = None;
    let mounts = container.get("volumeMounts").and_then(Value::as_array);
    for m in mounts.into_iter().flatten() {
        let Some(mp) = m.get("mountPath").and_then(Value::as_str) else {
            continue;
        };
        let mp = mp.trim_end_matches('/');
        let rel = if path == mp {
            Some(String::new())
        } else {
            path.strip_prefix(mp)
                .and_then(|r| r.strip_prefix('/'))
                .map(str::to_string)
        };
        if let Some(rel) = rel
            && best.as_ref().is_none_or(|(_, _, len)| *len < mp.len())
        {
            best = Some((m, rel, mp.len()));
        }
    }
    best.map(|(m, rel, _)| (m, rel))
}
