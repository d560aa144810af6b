//! Would the cluster accept it: every built-in kind has a schema, typed lists
//! are unpacked, an object needs an apiVersion, and removed API versions are
//! errors naming the release that removed them (one test per removal wave).

use mclint::check::{CheckOptions, check};
use mclint::finding::Finding;
use mclint::manifest::{Input, InputKind};

fn run(yaml: &str, version: &str) -> Vec<Finding> {
    let input = Input {
        name: "t.yaml".into(),
        kind: InputKind::Yaml,
        text: yaml.into(),
    };
    let options = CheckOptions {
        kube_version: Some(version.into()),
        ..CheckOptions::default()
    };
    check(&[input], &options).findings
}

fn of<'a>(findings: &'a [Finding], rule: &str) -> Vec<&'a Finding> {
    findings.iter().filter(|f| f.rule == rule).collect()
}

fn object(api_version: &str, kind: &str) -> String {
    format!("apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: x\n")
}

/// `api_version` `kind` is an error from `removed_in` on, naming the release
/// and the replacement, and (when `served_before` is supported) not before.
fn removed(api_version: &str, kind: &str, removed_in: &str, replacement: &str) {
    for version in mclint::schema::supported_versions() {
        let f = run(&object(api_version, kind), version);
        let hits = of(&f, "api-version-not-served");
        assert_eq!(hits.len(), 1, "{version} {api_version} {kind}: {f:#?}");
        let m = &hits[0].message;
        assert!(
            m.contains(&format!("removed in Kubernetes {removed_in}")),
            "{m}"
        );
        assert!(m.contains(replacement), "{m}");
        assert_eq!(hits[0].location.path, "/apiVersion");
        assert!(of(&f, "unknown-kind").is_empty(), "{f:#?}");
    }
}

#[test]
fn wave_1_16_apps_and_extensions_betas() {
    removed("extensions/v1beta1", "Deployment", "1.16", "apps/v1");
    removed("apps/v1beta2", "StatefulSet", "1.16", "apps/v1");
    removed(
        "extensions/v1beta1",
        "NetworkPolicy",
        "1.16",
        "networking.k8s.io/v1",
    );
}

#[test]
fn wave_1_22_crds_webhooks_ingress_rbac_storage() {
    removed(
        "apiextensions.k8s.io/v1beta1",
        "CustomResourceDefinition",
        "1.22",
        "apiextensions.k8s.io/v1",
    );
    removed(
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingWebhookConfiguration",
        "1.22",
        "admissionregistration.k8s.io/v1",
    );
    removed(
        "apiregistration.k8s.io/v1beta1",
        "APIService",
        "1.22",
        "apiregistration.k8s.io/v1",
    );
    removed(
        "networking.k8s.io/v1beta1",
        "Ingress",
        "1.22",
        "networking.k8s.io/v1",
    );
    removed(
        "storage.k8s.io/v1beta1",
        "StorageClass",
        "1.22",
        "storage.k8s.io/v1",
    );
    removed(
        "rbac.authorization.k8s.io/v1beta1",
        "Role",
        "1.22",
        "rbac.authorization.k8s.io/v1",
    );
}

#[test]
fn wave_1_25_psp_cronjob_pdb() {
    removed("batch/v1beta1", "CronJob", "1.25", "batch/v1");
    removed("policy/v1beta1", "PodDisruptionBudget", "1.25", "policy/v1");
    removed(
        "policy/v1beta1",
        "PodSecurityPolicy",
        "1.25",
        "Pod Security Admission",
    );
    // Never served as policy/v1: the kind is gone in every apiVersion.
    let f = run(&object("policy/v1", "PodSecurityPolicy"), "1.33");
    let hits = of(&f, "api-version-not-served");
    assert_eq!(hits.len(), 1, "{f:#?}");
    assert!(
        hits[0].message.contains("was never served"),
        "{}",
        hits[0].message
    );
    assert!(hits[0].message.contains("removed in Kubernetes 1.25"));
    assert!(of(&f, "unknown-kind").is_empty());
}

#[test]
fn wave_1_26_hpa_v2beta2_and_flowcontrol_v1beta1() {
    removed(
        "autoscaling/v2beta2",
        "HorizontalPodAutoscaler",
        "1.26",
        "autoscaling/v2",
    );
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "FlowSchema",
        "1.26",
        "flowcontrol.apiserver.k8s.io/v1",
    );
}

#[test]
fn wave_1_29_flowcontrol_v1beta2() {
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "PriorityLevelConfiguration",
        "1.29",
        "flowcontrol.apiserver.k8s.io/v1",
    );
}

#[test]
fn wave_1_32_flowcontrol_v1beta3_is_served_until_then() {
    let doc = object("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema");
    let supported = mclint::schema::supported_versions();
    if supported.contains(&"1.31") {
        let f = run(&doc, "1.31");
        assert!(of(&f, "api-version-not-served").is_empty(), "{f:#?}");
        assert!(
            of(&f, "unknown-kind").is_empty(),
            "a schema in 1.31: {f:#?}"
        );
    }
    let minor = |v: &str| v.split('.').nth(1).and_then(|m| m.parse::<u32>().ok());
    for version in supported.into_iter().filter(|v| minor(v) >= Some(32)) {
        let f = run(&doc, version);
        let hits = of(&f, "api-version-not-served");
        assert_eq!(hits.len(), 1, "{version}: {f:#?}");
        assert!(hits[0].message.contains("removed in Kubernetes 1.32"));
        assert!(hits[0].message.contains("flowcontrol.apiserver.k8s.io/v1"));
    }
}

#[test]
fn kinds_beyond_the_workloads_are_validated() {
    for (api, kind) in [
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        (
            "admissionregistration.k8s.io/v1",
            "ValidatingWebhookConfiguration",
        ),
        (
            "admissionregistration.k8s.io/v1",
            "MutatingWebhookConfiguration",
        ),
        ("storage.k8s.io/v1", "StorageClass"),
        ("storage.k8s.io/v1", "CSIDriver"),
        ("apiregistration.k8s.io/v1", "APIService"),
        ("scheduling.k8s.io/v1", "PriorityClass"),
    ] {
        // Every version, the oldest (generated from k8s-openapi 0.24) too.
        for version in mclint::schema::supported_versions() {
            let doc = format!("{}spec_typo: 1\n", object(api, kind));
            let f = run(&doc, version);
            assert!(
                of(&f, "unknown-kind").is_empty(),
                "{version} {kind}: {f:#?}"
            );
            assert!(
                of(&f, "schema-violation")
                    .iter()
                    .any(|v| v.location.path == "/spec_typo"),
                "{version} {kind}: {f:#?}"
            );
        }
    }
}

#[test]
fn typed_lists_are_unpacked_and_each_item_located() {
    let yaml = "apiVersion: v1
kind: ConfigMapList
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: a}
    data: {k: v}
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: b}
    dta: {k: v}
  - 42
";
    let f = run(yaml, "1.37");
    let v = of(&f, "schema-violation");
    assert_eq!(v.len(), 1, "{f:#?}");
    assert_eq!(v[0].location.path, "/items/1/dta");
    assert_eq!(v[0].location.line, Some(11));
    assert_eq!(
        v[0].object.as_ref().and_then(|o| o.name.as_deref()),
        Some("b")
    );
    assert!(of(&f, "unknown-kind").is_empty(), "{f:#?}");
    let n = of(&f, "not-an-object");
    assert_eq!(n.len(), 1, "{f:#?}");
    assert_eq!(n[0].location.path, "/items/2");

    let list = "apiVersion: v1
kind: List
items:
  - apiVersion: apps/v1beta1
    kind: Deployment
    metadata: {name: old}
";
    let f = run(list, "1.37");
    let hits = of(&f, "api-version-not-served");
    assert_eq!(hits.len(), 1, "{f:#?}");
    assert_eq!(hits[0].location.path, "/items/0/apiVersion");
}

#[test]
fn an_object_without_api_version_is_an_error() {
    let f = run("kind: Widget\nmetadata: {name: w}\n", "1.37");
    assert_eq!(of(&f, "api-version-missing").len(), 1, "{f:#?}");
    assert!(of(&f, "unknown-kind").is_empty(), "{f:#?}");
    let f = run("kind: Service\nmetadata: {name: s}\n", "1.37");
    assert!(
        f.iter()
            .any(|x| x.severity == mclint::finding::Severity::Error),
        "{f:#?}"
    );
}

#[test]
fn the_docs_table_lists_every_removal() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/removed-apis.md"),
    )
    .unwrap();
    for r in mclint::schema::removed::all() {
        let row = format!("| {} | `{}` | {} |", r.removed_in, r.api_version, r.kind);
        assert!(doc.contains(&row), "docs/removed-apis.md lacks {row}");
    }
}

#[test]
fn closed_value_sets_are_enforced_with_a_suggestion() {
    let pod = "apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  restartPolicy: Sometimes
  dnsPolicy: clusterfirst
  containers:
    - name: c
      image: busybox
      imagePullPolicy: Allways
      ports: [{containerPort: 80, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  type: Internal
  ports: [{port: 80}]
";
    for version in mclint::schema::supported_versions() {
        closed_value_sets_in(pod, version);
    }
}

fn closed_value_sets_in(pod: &str, version: &str) {
    let f = run(pod, version);
    let v = of(&f, "schema-violation");
    let at = |path: &str| {
        v.iter()
            .find(|x| x.location.path == path)
            .map(|x| x.message.to_string())
            .unwrap_or_else(|| panic!("{version}: nothing at {path}: {f:#?}"))
    };
    assert!(at("/spec/restartPolicy").contains("must be one of"));
    assert!(at("/spec/dnsPolicy").contains("did you mean `ClusterFirst`?"));
    assert!(at("/spec/containers/0/imagePullPolicy").contains("did you mean `Always`?"));
    assert!(at("/spec/containers/0/ports/0/protocol").contains("`TCP`"));
    assert!(at("/spec/type").contains("`ClusterIP`"));
}

/// `""` where the API server's defaulting fills it in (charts render it for
/// unset values) passes; `""` in a pointer field it does not default is an error.
#[test]
fn an_empty_value_passes_where_the_api_server_defaults_it() {
    let docs = "apiVersion: apps/v1
kind: StatefulSet
metadata: {name: s}
spec:
  serviceName: s
  podManagementPolicy: \"\"
  updateStrategy: {type: \"\"}
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      restartPolicy: \"\"
      dnsPolicy: \"\"
      tolerations: [{key: k, operator: Exists, effect: \"\"}]
      securityContext: {fsGroupChangePolicy: \"\"}
      containers:
        - name: c
          image: busybox
          imagePullPolicy: \"\"
          ports: [{containerPort: 80, protocol: \"\"}]
---
apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  type: \"\"
  sessionAffinity: \"\"
  ports: [{port: 80, protocol: \"\"}]
";
    for version in mclint::schema::supported_versions() {
        let f = run(docs, version);
        let v = of(&f, "schema-violation");
        assert_eq!(v.len(), 1, "{version}: {v:#?}");
        assert_eq!(
            v[0].location.path, "/spec/template/spec/securityContext/fsGroupChangePolicy",
            "{version}: {v:#?}"
        );
        assert!(
            v[0].message.contains("`Always`, `OnRootMismatch`"),
            "{}",
            v[0].message
        );
    }
}

/// A CRD's schema holds any JSON value in `default`, `enum` and `example`.
#[test]
fn a_crd_schema_may_hold_any_json_value() {
    let crd = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            mode: {type: string, enum: [fast, slow], default: fast}
            size: {type: integer, default: 1024, example: 2048}
            on: {type: boolean, default: false}
            tags: {type: array, items: {type: string, enum: [a, b]}}
            extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
";
    for version in mclint::schema::supported_versions() {
        let f = run(crd, version);
        assert!(of(&f, "schema-violation").is_empty(), "{version}: {f:#?}");
        let typo = crd.replace("scope: Namespaced", "scope: Namespaced\n  scoep: x");
        let f = run(&typo, version);
        assert!(
            of(&f, "schema-violation")
                .iter()
                .any(|v| v.location.path == "/spec/scoep"),
            "{version}: {f:#?}"
        );
    }
}
