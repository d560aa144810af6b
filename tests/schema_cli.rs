//! `mclint check` with schemas, end to end: versions, `--schema-dir`, field
//! lines, working offline from any directory, and the chart's own output.

mod support;

use support::{mclint, repo, run};

const RESTART_RULES_POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: memcached
spec:
  containers:
    - name: memcached
      image: memcached:1.6.38
      restartPolicy: Always
      restartPolicyRules:
        - action: Restart
          exitCodes: {operator: In, values: [42]}
";

fn findings(stdout: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value =
        serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    v["findings"].as_array().cloned().unwrap_or_default()
}

#[test]
fn an_unknown_kube_version_is_a_usage_error_listing_the_supported_ones() {
    let r = run(
        mclint().args(["check", "--kube-version", "1.20", "-"]),
        b"kind: ConfigMap\n",
    );
    assert_eq!(r.code, 2, "{}", r.snapshot());
    assert!(
        r.stderr.contains(
            "unsupported Kubernetes version `1.20`; supported: 1.29, 1.30, 1.31, 1.32, 1.33, 1.34, 1.35, 1.36, 1.37"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn the_kube_version_selects_the_schemas() {
    // `restartPolicyRules` is a Container field of 1.37 (in every spelling of the
    // version), unknown to 1.33.
    for v in ["1.37", "v1.37", "1.37.2"] {
        let r = run(
            mclint().args([
                "check",
                "-f",
                "json",
                "--select",
                "schema-violation",
                "--kube-version",
                v,
                "-",
            ]),
            RESTART_RULES_POD.as_bytes(),
        );
        assert_eq!(r.code, 0, "{v}: {}", r.snapshot());
    }
    let r = run(
        mclint().args([
            "check",
            "-f",
            "json",
            "--select",
            "schema-violation",
            "--kube-version",
            "v1.33.4",
            "-",
        ]),
        RESTART_RULES_POD.as_bytes(),
    );
    assert_eq!(r.code, 1, "{}", r.snapshot());
    let f = findings(&r.stdout);
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert_eq!(f[0]["path"], "/spec/containers/0/restartPolicyRules");
    assert_eq!(f[0]["line"], 10);
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("unknown field `restartPolicyRules` in Container")
    );
}

#[test]
fn findings_point_at_the_offending_field() {
    let yaml = b"apiVersion: apps/v1
kind: Deployment
metadata:
  name: proxy
spec:
  replicas: \"3\"
  selector:
    matchLabels: {app: proxy}
  template:
    metadata:
      labels: {app: proxy}
    spec:
      containers:
        - name: proxy
          image: memcached:1.6.38
          resources:
            limits:
              memory: 400MB
";
    let r = run(
        mclint().args(["check", "-f", "json", "--select", "schema-violation", "-"]),
        yaml,
    );
    assert_eq!(r.code, 1, "{}", r.snapshot());
    let f = findings(&r.stdout);
    let got: Vec<(u64, &str, &str)> = f
        .iter()
        .map(|x| {
            (
                x["line"].as_u64().unwrap(),
                x["path"].as_str().unwrap(),
                x["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, 6);
    assert_eq!(got[0].1, "/spec/replicas");
    assert_eq!(got[0].2, "`replicas` must be an integer, got string \"3\"");
    assert_eq!(got[1].0, 18);
    assert_eq!(
        got[1].1,
        "/spec/template/spec/containers/0/resources/limits/memory"
    );
    assert!(
        got[1]
            .2
            .starts_with("`memory: 400MB` is not a Kubernetes quantity ("),
        "{}",
        got[1].2
    );
}

#[test]
fn works_offline_from_any_directory() {
    let r = run(
        mclint().current_dir("/").args([
            "check",
            "--select",
            "schema-violation",
            "--kube-version",
            "1.35",
            "-",
        ]),
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndatas: {}\n",
    );
    assert_eq!(r.code, 1, "{}", r.snapshot());
    assert!(
        r.stdout
            .contains("unknown field `datas` in ConfigMap; did you mean `data`?"),
        "{}",
        r.stdout
    );
}

#[test]
fn schema_dir_adds_custom_resources() {
    let dir = tempfile::tempdir().unwrap();
    let schema = serde_json::json!({
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": false,
        "properties": {
            "apiVersion": {"const": "monitoring.coreos.com/v1"},
            "kind": {"const": "ServiceMonitor"},
            "metadata": {"type": "object"},
            "spec": {
                "type": "object",
                "additionalProperties": false,
                "properties": {"endpoints": {"type": "array", "items": {
                    "type": "object", "additionalProperties": false,
                    "properties": {"port": {"type": "string"}, "interval": {"type": "string"}}
                }}}
            }
        }
    });
    std::fs::write(
        dir.path()
            .join("monitoring.coreos.com-v1-servicemonitor.json"),
        serde_json::to_string(&schema).unwrap(),
    )
    .unwrap();
    let cr = b"apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: memcached}
spec:
  endpoints:
    - port: metrics
      intervall: 30s
";
    // Without the schema: only an info that it was not validated.
    let r = run(mclint().args(["check", "-f", "json", "-"]), cr);
    assert_eq!(r.code, 0, "{}", r.snapshot());
    let f = findings(&r.stdout);
    assert!(
        f.iter()
            .any(|x| x["rule"] == "unknown-kind" && x["severity"] == "info"),
        "{}",
        r.stdout
    );

    let r = run(
        mclint()
            .args(["check", "-f", "json", "--schema-dir"])
            .arg(dir.path())
            .arg("-"),
        cr,
    );
    assert_eq!(r.code, 1, "{}", r.snapshot());
    let f = findings(&r.stdout);
    assert!(
        !f.iter().any(|x| x["rule"] == "unknown-kind"),
        "{}",
        r.stdout
    );
    let v = f
        .iter()
        .find(|x| x["rule"] == "schema-violation")
        .expect("a schema violation");
    assert_eq!(v["path"], "/spec/endpoints/0/intervall");
    assert_eq!(v["line"], 7);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `interval`?"),
        "{v}"
    );
}

#[test]
fn schema_dir_overrides_per_version_and_reports_broken_files() {
    let dir = tempfile::tempdir().unwrap();
    // An override for 1.36 only that lets ConfigMaps carry anything.
    std::fs::create_dir(dir.path().join("v1.36")).unwrap();
    std::fs::write(
        dir.path().join("v1.36/v1-configmap.json"),
        r#"{"type": "object"}"#,
    )
    .unwrap();
    let cm = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndatas: {}\n";
    let r = run(
        mclint()
            .args([
                "check",
                "--select",
                "schema-violation",
                "--kube-version",
                "1.36",
                "--schema-dir",
            ])
            .arg(dir.path())
            .arg("-"),
        cm,
    );
    assert_eq!(r.code, 0, "{}", r.snapshot());
    let r = run(
        mclint()
            .args([
                "check",
                "--select",
                "schema-violation",
                "--kube-version",
                "1.37",
                "--schema-dir",
            ])
            .arg(dir.path())
            .arg("-"),
        cm,
    );
    assert_eq!(r.code, 1, "{}", r.snapshot());

    std::fs::write(dir.path().join("broken.json"), "{ not json").unwrap();
    let r = run(
        mclint()
            .args(["check", "--schema-dir"])
            .arg(dir.path())
            .arg("-"),
        cm,
    );
    assert_eq!(r.code, 2, "{}", r.snapshot());
    assert!(
        r.stderr.contains("broken.json: not a usable JSON schema"),
        "{}",
        r.stderr
    );

    let r = run(
        mclint().args(["check", "--schema-dir", "/nonexistent/schemas", "-"]),
        cm,
    );
    assert_eq!(r.code, 2, "{}", r.snapshot());
    assert!(
        r.stderr
            .contains("--schema-dir /nonexistent/schemas: no such directory"),
        "{}",
        r.stderr
    );
}

#[test]
fn api_versions_not_served_list_the_served_ones() {
    let r = run(
        mclint().args([
            "check",
            "-f",
            "json",
            "--select",
            "api-version-not-served",
            "-",
        ]),
        b"apiVersion: apps/v1beta3\nkind: StatefulSet\nmetadata: {name: a}\n",
    );
    assert_eq!(r.code, 1, "{}", r.snapshot());
    let f = findings(&r.stdout);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["line"], 1);
    assert_eq!(
        f[0]["message"],
        "Kubernetes 1.37 does not serve StatefulSet as `apps/v1beta3`; it serves it as `apps/v1`"
    );
}

#[test]
fn the_rendered_chart_is_schema_valid() {
    let chart = repo().join("charts/distributed-memcached/Chart.yaml");
    if !chart.is_file() {
        eprintln!("skipped: the chart is not there yet");
        return;
    }
    let out = support::helm_template("cache", "cache", &[]);
    let r = run(
        mclint().args([
            "check",
            "-f",
            "json",
            "--select",
            "schema-violation,api-version-not-served",
            "-",
        ]),
        out.as_bytes(),
    );
    assert_eq!(
        r.code, 0,
        "the chart's default rendering breaks the schemas:\n{}",
        r.stdout
    );
}
