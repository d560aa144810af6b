//! The closed sets of values the API server accepts for string fields.
//!
//! Upstream's OpenAPI spec lists them as `enum` ("Possible enum values" in the
//! field documentation), but k8s-openapi drops both from its types, so the
//! generator puts them back from this table. Each set is the one upstream's
//! OpenAPI v3 spec (`api/openapi-spec/v3/` in kubernetes/kubernetes) gives and
//! the API server's validation (`pkg/apis/*/validation`) enforces, for every
//! version mclint supports; fields whose set grew within that range (e.g.
//! `Toleration.operator`) are left out rather than made wrong for one version.

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

/// Puts the sets into the `$defs` of one schema (those it has).
pub fn apply(root: &mut serde_json::Value) {
    let Some(defs) = root.get_mut("$defs").and_then(|d| d.as_object_mut()) else {
        return;
    };
    for (def, prop, values) in ENUMS {
        let Some(p) = defs
            .get_mut(*def)
            .and_then(|d| d.get_mut("properties"))
            .and_then(|p| p.get_mut(*prop))
            .and_then(|p| p.as_object_mut())
        else {
            continue;
        };
        let target = if p.get("type").and_then(|t| t.as_str()) == Some("array") {
            match p.get_mut("items").and_then(|i| i.as_object_mut()) {
                Some(items) => items,
                None => continue,
            }
        } else {
            p
        };
        if target.get("type").and_then(|t| t.as_str()) == Some("string") {
            target.insert("enum".into(), serde_json::json!(values));
        }
    }
}
