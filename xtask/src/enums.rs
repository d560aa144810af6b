//! The closed sets of values the API server accepts for string fields.
//!
//! Upstream's OpenAPI spec lists them as `enum` ("Possible enum values" in the
//! field documentation), but k8s-openapi drops both from its types, so the
//! generator puts them back from this table. Each set is the one upstream's
//! OpenAPI v3 spec (`api/openapi-spec/v3/` in kubernetes/kubernetes) gives and
//! the API server's validation (`pkg/apis/*/validation`) enforces, for every
//! version mclint supports; fields whose set grew within that range (e.g.
//! `Toleration.operator`) are left out rather than made wrong for one version.
//!
//! The table is checked against the field documentation of the k8s-openapi
//! release each version is generated from (`check_against_docs`, run by every
//! `gen-schemas`): where the documentation lists the values, it must name every
//! value of the set; where it does not (`NOT_LISTED`), the Go type in
//! `k8s.io/api` that holds the constants is named instead.

use serde_json::Value;

/// `(OpenAPI definition, property, allowed values)`. A property that is a list
/// of strings gets the set on its items.
pub const ENUMS: &[(&str, &str, &[&str])] = &[
    ("io.k8s.api.core.v1.Container", "imagePullPolicy", PULL),
    (
        "io.k8s.api.core.v1.Container",
        "terminationMessagePolicy",
        TERMINATION,
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "imagePullPolicy",
        PULL,
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "terminationMessagePolicy",
        TERMINATION,
    ),
    ("io.k8s.api.core.v1.ContainerPort", "protocol", PROTOCOL),
    ("io.k8s.api.core.v1.ServicePort", "protocol", PROTOCOL),
    ("io.k8s.api.core.v1.EndpointPort", "protocol", PROTOCOL),
    (
        "io.k8s.api.networking.v1.NetworkPolicyPort",
        "protocol",
        PROTOCOL,
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "restartPolicy",
        &["Always", "Never", "OnFailure"],
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "dnsPolicy",
        &["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"],
    ),
    ("io.k8s.api.core.v1.PodSpec", "preemptionPolicy", PREEMPTION),
    (
        "io.k8s.api.scheduling.v1.PriorityClass",
        "preemptionPolicy",
        PREEMPTION,
    ),
    ("io.k8s.api.core.v1.PodOS", "name", &["linux", "windows"]),
    (
        "io.k8s.api.core.v1.PodSecurityContext",
        "fsGroupChangePolicy",
        &["Always", "OnRootMismatch"],
    ),
    (
        "io.k8s.api.core.v1.SeccompProfile",
        "type",
        &["Localhost", "RuntimeDefault", "Unconfined"],
    ),
    (
        "io.k8s.api.core.v1.VolumeMount",
        "mountPropagation",
        &["Bidirectional", "HostToContainer", "None"],
    ),
    (
        "io.k8s.api.core.v1.HTTPGetAction",
        "scheme",
        &["HTTP", "HTTPS"],
    ),
    (
        "io.k8s.api.core.v1.Toleration",
        "effect",
        &["NoExecute", "NoSchedule", "PreferNoSchedule"],
    ),
    (
        "io.k8s.api.core.v1.NodeSelectorRequirement",
        "operator",
        &["DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn"],
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
        "operator",
        &["DoesNotExist", "Exists", "In", "NotIn"],
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeClaimSpec",
        "volumeMode",
        &["Block", "Filesystem"],
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeClaimSpec",
        "accessModes",
        &[
            "ReadOnlyMany",
            "ReadWriteMany",
            "ReadWriteOnce",
            "ReadWriteOncePod",
        ],
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "type",
        &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "sessionAffinity",
        &["ClientIP", "None"],
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "externalTrafficPolicy",
        TRAFFIC,
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "internalTrafficPolicy",
        TRAFFIC,
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "ipFamilyPolicy",
        &["PreferDualStack", "RequireDualStack", "SingleStack"],
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "ipFamilies",
        &["IPv4", "IPv6"],
    ),
    (
        "io.k8s.api.apps.v1.DeploymentStrategy",
        "type",
        &["Recreate", "RollingUpdate"],
    ),
    (
        "io.k8s.api.apps.v1.StatefulSetSpec",
        "podManagementPolicy",
        &["OrderedReady", "Parallel"],
    ),
    (
        "io.k8s.api.apps.v1.StatefulSetUpdateStrategy",
        "type",
        UPDATE,
    ),
    ("io.k8s.api.apps.v1.DaemonSetUpdateStrategy", "type", UPDATE),
    (
        "io.k8s.api.batch.v1.CronJobSpec",
        "concurrencyPolicy",
        &["Allow", "Forbid", "Replace"],
    ),
    (
        "io.k8s.api.batch.v1.JobSpec",
        "completionMode",
        &["Indexed", "NonIndexed"],
    ),
    (
        "io.k8s.api.networking.v1.HTTPIngressPath",
        "pathType",
        &["Exact", "ImplementationSpecific", "Prefix"],
    ),
    (
        "io.k8s.api.networking.v1.NetworkPolicySpec",
        "policyTypes",
        &["Egress", "Ingress"],
    ),
    (
        "io.k8s.api.policy.v1.PodDisruptionBudgetSpec",
        "unhealthyPodEvictionPolicy",
        &["AlwaysAllow", "IfHealthyBudget"],
    ),
    (
        "io.k8s.api.autoscaling.v2.MetricSpec",
        "type",
        &[
            "ContainerResource",
            "External",
            "Object",
            "Pods",
            "Resource",
        ],
    ),
    (
        "io.k8s.api.autoscaling.v2.MetricTarget",
        "type",
        &["AverageValue", "Utilization", "Value"],
    ),
    (
        "io.k8s.api.autoscaling.v2.HPAScalingRules",
        "selectPolicy",
        &["Disabled", "Max", "Min"],
    ),
    (
        "io.k8s.api.autoscaling.v2.HPAScalingPolicy",
        "type",
        &["Percent", "Pods"],
    ),
];

const PULL: &[&str] = &["Always", "IfNotPresent", "Never"];
const TERMINATION: &[&str] = &["FallbackToLogsOnError", "File"];
const PROTOCOL: &[&str] = &["SCTP", "TCP", "UDP"];
const PREEMPTION: &[&str] = &["Never", "PreemptLowerPriority"];
const TRAFFIC: &[&str] = &["Cluster", "Local"];
const UPDATE: &[&str] = &["OnDelete", "RollingUpdate"];

/// The schema of definition `def` in a generated document whose root is the
/// definition `root_name` (a top-level kind's own fields are at the root, not
/// in `$defs`).
fn definition<'a>(root: &'a Value, root_name: &str, def: &str) -> Option<&'a Value> {
    if def == root_name {
        Some(root)
    } else {
        root.get("$defs").and_then(|d| d.get(def))
    }
}

fn definition_mut<'a>(root: &'a mut Value, root_name: &str, def: &str) -> Option<&'a mut Value> {
    if def == root_name {
        Some(root)
    } else {
        root.get_mut("$defs").and_then(|d| d.get_mut(def))
    }
}

/// Puts the sets into one schema (the definitions it has), whose root is the
/// definition `root_name`.
pub fn apply(root: &mut Value, root_name: &str) {
    for (def, prop, values) in ENUMS {
        let Some(p) = definition_mut(root, root_name, def)
            .and_then(|d| d.get_mut("properties"))
            .and_then(|p| p.get_mut(*prop))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        let target = if p.get("type").and_then(Value::as_str) == Some("array") {
            match p.get_mut("items").and_then(Value::as_object_mut) {
                Some(items) => items,
                None => continue,
            }
        } else {
            p
        };
        if target.get("type").and_then(Value::as_str) == Some("string") {
            let mut set: Vec<&str> = values.to_vec();
            if EMPTY_ACCEPTED.contains(&(*def, *prop)) {
                set.push("");
            }
            target.insert("enum".into(), serde_json::json!(set));
        }
    }
}

/// Does `text` name `value` as a word of its own (`Always`, `"Always"`,
/// `'Always'`, but not `AlwaysAllow` for `Always`)?
fn names(text: &str, value: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(value).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + value.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

/// Checks the table against the field documentation k8s-openapi carries for
/// this version (`raw`: the schemas before descriptions are dropped). The
/// documentation lists the allowed values ("One of Always, Never,
/// IfNotPresent", "Valid values are …"); every value of a set must be named
/// there. Returns one line per value the documentation does not name, and per
/// table entry no schema of this version has (so a typo in the table shows).
pub fn check_against_docs(raw: &[(&str, &Value)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (def, prop, values) in ENUMS {
        let Some(field) = raw.iter().find_map(|(name, root)| {
            definition(root, name, def)
                .and_then(|d| d.get("properties"))
                .and_then(|p| p.get(*prop))
        }) else {
            problems.push(format!("{def}.{prop}: no schema of this version has it"));
            continue;
        };
        if let Some((_, _, go)) = NOT_LISTED.iter().find(|(d, p, _)| d == def && p == prop) {
            // Checked that the field exists; the set is the Go type's constants.
            debug_assert!(!go.is_empty());
            continue;
        }
        let text = field
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("");
        for v in *values {
            if !names(text, v) {
                problems.push(format!(
                    "{def}.{prop}: the documentation does not name `{v}`: {text:?}"
                ));
            }
        }
    }
    for (def, prop) in EMPTY_ACCEPTED {
        if !ENUMS.iter().any(|(d, p, _)| d == def && p == prop) {
            problems.push(format!("{def}.{prop}: in EMPTY_ACCEPTED but not in ENUMS"));
        }
    }
    for (def, prop, _) in NOT_LISTED {
        if !ENUMS.iter().any(|(d, p, _)| d == def && p == prop) {
            problems.push(format!("{def}.{prop}: in NOT_LISTED but not in ENUMS"));
        }
    }
    problems
}

/// Fields where the API server accepts an empty string: its defaulting
/// (`SetDefaults_*` in `pkg/apis/<group>/v1/defaults.go`) replaces `""` in a
/// non-pointer field before validation (`imagePullPolicy: ""` becomes
/// `IfNotPresent` or `Always`), or `""` is a value of its own
/// (`Toleration.effect`: every effect; `externalTrafficPolicy` of a ClusterIP
/// Service). Charts render `""` for unset values, so these must not be errors.
/// Pointer fields (`fsGroupChangePolicy`, `mountPropagation`, …) are defaulted
/// only when absent, and `""` there is refused.
pub const EMPTY_ACCEPTED: &[(&str, &str)] = &[
    ("io.k8s.api.core.v1.Container", "imagePullPolicy"),
    ("io.k8s.api.core.v1.Container", "terminationMessagePolicy"),
    ("io.k8s.api.core.v1.EphemeralContainer", "imagePullPolicy"),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "terminationMessagePolicy",
    ),
    ("io.k8s.api.core.v1.ContainerPort", "protocol"),
    ("io.k8s.api.core.v1.ServicePort", "protocol"),
    ("io.k8s.api.core.v1.EndpointPort", "protocol"),
    ("io.k8s.api.core.v1.PodSpec", "restartPolicy"),
    ("io.k8s.api.core.v1.PodSpec", "dnsPolicy"),
    ("io.k8s.api.core.v1.HTTPGetAction", "scheme"),
    ("io.k8s.api.core.v1.Toleration", "effect"),
    ("io.k8s.api.core.v1.ServiceSpec", "type"),
    ("io.k8s.api.core.v1.ServiceSpec", "sessionAffinity"),
    ("io.k8s.api.core.v1.ServiceSpec", "externalTrafficPolicy"),
    ("io.k8s.api.apps.v1.DeploymentStrategy", "type"),
    ("io.k8s.api.apps.v1.StatefulSetSpec", "podManagementPolicy"),
    ("io.k8s.api.apps.v1.StatefulSetUpdateStrategy", "type"),
    ("io.k8s.api.apps.v1.DaemonSetUpdateStrategy", "type"),
    ("io.k8s.api.batch.v1.CronJobSpec", "concurrencyPolicy"),
];

/// The sets whose field documentation does not list the values; each names
/// the Go type in `k8s.io/api` (`<group>/<version>/types.go`) whose constants
/// are the set, where the table's values come from.
pub const NOT_LISTED: &[(&str, &str, &str)] = &[
    (
        "io.k8s.api.core.v1.VolumeMount",
        "mountPropagation",
        "core/v1 MountPropagationMode",
    ),
    (
        "io.k8s.api.core.v1.HTTPGetAction",
        "scheme",
        "core/v1 URIScheme",
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeClaimSpec",
        "volumeMode",
        "core/v1 PersistentVolumeMode",
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeClaimSpec",
        "accessModes",
        "core/v1 PersistentVolumeAccessMode",
    ),
    (
        "io.k8s.api.apps.v1.StatefulSetUpdateStrategy",
        "type",
        "apps/v1 StatefulSetUpdateStrategyType",
    ),
    (
        "io.k8s.api.autoscaling.v2.HPAScalingRules",
        "selectPolicy",
        "autoscaling/v2 ScalingPolicySelect",
    ),
    (
        "io.k8s.api.autoscaling.v2.HPAScalingPolicy",
        "type",
        "autoscaling/v2 HPAScalingPolicyType",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_named_as_a_whole_word() {
        assert!(names("One of Always, Never, IfNotPresent.", "Always"));
        assert!(names("Valid values are \"None\" or 'Default'", "Default"));
        assert!(!names("AlwaysAllow or IfHealthyBudget", "Always"));
        assert!(!names("NoExecute", "Never"));
    }

    #[test]
    fn a_set_the_documentation_does_not_list_is_reported() {
        let raw = serde_json::json!({"$defs": {"io.k8s.api.core.v1.Container": {"properties": {
            "imagePullPolicy": {"type": "string", "description": "One of Always, IfNotPresent."}
        }}}});
        let problems = check_against_docs(&[("io.k8s.api.core.v1.Pod", &raw)]);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("imagePullPolicy") && p.contains("`Never`")),
            "{problems:?}"
        );
        assert!(
            !problems.iter().any(|p| p.contains("`Always`")),
            "{problems:?}"
        );
    }
}
