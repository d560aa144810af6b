//! What `mclint check` keeps of an object after the rules that read one
//! document at a time are done with it: what the rules over the whole set
//! ([`crate::rules::Scope::Set`]) read, and nothing else.
//!
//! Those rules relate objects to each other: Services, PodDisruptionBudgets
//! and NetworkPolicies to pod templates by labels and ports, workloads to the
//! ConfigMaps, Secrets and Certificates they mount, proxies to their configs
//! and backends. So every object keeps its identity (kind, name, namespace,
//! labels, the `mclint.io/ignore` annotation) and the kinds those rules read
//! keep their content, less what none of them reads: status, bookkeeping
//! metadata, resources, probes, security contexts, scheduling tolerations, update
//! strategies, Secret values. A stream of a few thousand objects then holds
//! a fraction of its parsed size until the end of the run.
//!
//! What is cut here goes before the document's line index is cut down to
//! what is left; then `Document::shrink` also takes the identity out of the
//! JSON (the document record holds it) and shares what is left with the
//! other objects kept (`json::Strings`).
//!
//! `tests/residue.rs` runs every rule fixture and the real-world corpus both
//! ways (every rule over the whole parsed set, and as `check` runs them) and
//! requires the same findings, so a rule that starts to read a field cut here
//! fails there, not silently in a user's run.

use crate::json::{Map, Value};

use crate::rules::suppression::IGNORE_ANNOTATION;

/// Kinds whose content some set rule reads. Every other kind keeps its
/// identity only.
const CONTENT_KINDS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "Service",
    "ConfigMap",
    "Secret",
    "NetworkPolicy",
    "PodDisruptionBudget",
    "Certificate",
    "Namespace",
];

/// Metadata fields kept.
const METADATA: &[&str] = &["name", "namespace", "labels", "annotations"];

/// Workload `spec` fields no set rule reads.
const WORKLOAD_SPEC_CUT: &[&str] = &[
    "strategy",
    "updateStrategy",
    "revisionHistoryLimit",
    "minReadySeconds",
    "progressDeadlineSeconds",
    "persistentVolumeClaimRetentionPolicy",
    "volumeClaimTemplates",
    "ordinals",
    "successfulJobsHistoryLimit",
    "failedJobsHistoryLimit",
    "startingDeadlineSeconds",
    "concurrencyPolicy",
    "timeZone",
    "backoffLimit",
    "backoffLimitPerIndex",
    "activeDeadlineSeconds",
    "ttlSecondsAfterFinished",
    "podFailurePolicy",
    "podReplacementPolicy",
    "successPolicy",
];

/// Pod spec fields no set rule reads.
const POD_SPEC_CUT: &[&str] = &[
    "securityContext",
    "tolerations",
    "dnsConfig",
    "dnsPolicy",
    "hostAliases",
    "imagePullSecrets",
    "priorityClassName",
    "priority",
    "preemptionPolicy",
    "terminationGracePeriodSeconds",
    "activeDeadlineSeconds",
    "topologySpreadConstraints",
    "schedulerName",
    "readinessGates",
    "runtimeClassName",
    "overhead",
    "os",
    "resources",
    "resourceClaims",
    "schedulingGates",
    "serviceAccount",
    "serviceAccountName",
    "automountServiceAccountToken",
    "enableServiceLinks",
    "shareProcessNamespace",
    "setHostnameAsFQDN",
    "hostUsers",
];

/// Container fields no set rule reads.
const CONTAINER_CUT: &[&str] = &[
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "resources",
    "resizePolicy",
    "securityContext",
    "lifecycle",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "imagePullPolicy",
    "stdin",
    "stdinOnce",
    "tty",
    "volumeDevices",
];

/// Cuts `value`, an object of `kind`, down to what set rules read.
pub fn prune(kind: &str, value: &mut Value) {
    let Value::Object(root) = value else {
        return;
    };
    root.remove("status");
    if let Some(Value::Object(meta)) = root.get_mut("metadata") {
        prune_metadata(meta);
    }
    if !CONTENT_KINDS.contains(&kind) {
        root.retain(|k, _| matches!(k.as_str(), "apiVersion" | "kind" | "metadata"));
        return;
    }
    match kind {
        "Secret" => {
            // Which keys a Secret has matters; what they hold does not, and
            // need not stay in memory.
            for field in ["data", "stringData"] {
                if let Some(Value::Object(data)) = root.get_mut(field) {
                    for v in data.values_mut() {
                        *v = Value::String(Default::default());
                    }
                }
            }
        }
        "Pod" => {
            if let Some(spec) = root.get_mut("spec") {
                prune_pod_spec(spec);
            }
        }
        "CronJob" => {
            if let Some(Value::Object(spec)) = root.get_mut("spec") {
                cut(spec, WORKLOAD_SPEC_CUT);
                if let Some(Value::Object(job)) = spec.get_mut("jobTemplate") {
                    if let Some(Value::Object(meta)) = job.get_mut("metadata") {
                        prune_metadata(meta);
                    }
                    if let Some(Value::Object(job_spec)) = job.get_mut("spec") {
                        cut(job_spec, WORKLOAD_SPEC_CUT);
                        if let Some(template) = job_spec.get_mut("template") {
                            prune_template(template);
                        }
                    }
                }
            }
        }
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => {
            if let Some(Value::Object(spec)) = root.get_mut("spec") {
                cut(spec, WORKLOAD_SPEC_CUT);
                if let Some(template) = spec.get_mut("template") {
                    prune_template(template);
                }
            }
        }
        _ => {}
    }
}

fn cut(map: &mut Map, fields: &[&str]) {
    if map.keys().any(|k| fields.contains(&k.as_str())) {
        map.retain(|k, _| !fields.contains(&k.as_str()));
    }
}

fn prune_metadata(meta: &mut Map) {
    meta.retain(|k, _| METADATA.contains(&k.as_str()));
    if let Some(Value::Object(annotations)) = meta.get_mut("annotations") {
        annotations.retain(|k, _| k == IGNORE_ANNOTATION);
    }
}

fn prune_template(template: &mut Value) {
    let Value::Object(t) = template else {
        return;
    };
    if let Some(Value::Object(meta)) = t.get_mut("metadata") {
        prune_metadata(meta);
    }
    if let Some(spec) = t.get_mut("spec") {
        prune_pod_spec(spec);
    }
}

fn prune_pod_spec(spec: &mut Value) {
    let Value::Object(spec) = spec else {
        return;
    };
    cut(spec, POD_SPEC_CUT);
    for field in ["initContainers", "containers", "ephemeralContainers"] {
        if let Some(Value::Array(list)) = spec.get_mut(field) {
            for c in list {
                if let Value::Object(c) = c {
                    cut(c, CONTAINER_CUT);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_identity_and_what_set_rules_read() {
        let mut v = crate::json_value!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "web",
                "labels": {"app": "web"},
                "annotations": {"mclint.io/ignore": "all", "checksum/config": "abc"},
                "managedFields": [{}],
            },
            "spec": {
                "strategy": {"type": "Recreate"},
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}, "annotations": {"a": "b"}},
                    "spec": {
                        "tolerations": [{}],
                        "containers": [{
                            "name": "c",
                            "ports": [{"containerPort": 80}],
                            "resources": {"limits": {"memory": "1Gi"}},
                            "readinessProbe": {"tcpSocket": {"port": 80}},
                        }],
                    },
                },
            },
            "status": {"replicas": 1},
        });
        prune("Deployment", &mut v);
        assert_eq!(
            v,
            crate::json_value!({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {
                    "name": "web",
                    "labels": {"app": "web"},
                    "annotations": {"mclint.io/ignore": "all"},
                },
                "spec": {
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {
                        "metadata": {"labels": {"app": "web"}, "annotations": {}},
                        "spec": {
                            "containers": [{
                                "name": "c",
                                "ports": [{"containerPort": 80}],
                            }],
                        },
                    },
                },
            })
        );
    }

    #[test]
    fn other_kinds_keep_identity_and_secrets_lose_their_values() {
        let mut role = crate::json_value!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "r", "namespace": "ns"},
            "rules": [{"verbs": ["get"]}],
        });
        prune("Role", &mut role);
        assert_eq!(
            role,
            crate::json_value!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": {"name": "r", "namespace": "ns"},
            })
        );
        let mut secret = crate::json_value!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "tls"},
            "data": {"tls.crt": "AAAA", "tls.key": "BBBB"},
        });
        prune("Secret", &mut secret);
        assert_eq!(
            secret["data"],
            crate::json_value!({"tls.crt": "", "tls.key": ""})
        );
    }
}
