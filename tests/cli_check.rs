//! `mclint check` end to end: every output format on one rendered stream, exit
//! codes, and the bundled chart against the cross-object rules.

mod support;

use std::path::Path;

use serde_json::{Value, json};
use support::{Run, helm_template, mclint, run};

/// The cross-object rules: what these tests select, so that rules added by
/// others later do not change the snapshots.
const CROSS: &str = "selector-mismatches-template,service-selects-no-pods,statefulset-service-missing,\
statefulset-service-misses-pods,named-port-undeclared,port-number-undeclared,duplicate-container-port,\
volume-mount-without-volume,configmap-key-missing,configmap-not-rendered,pdb-selects-no-pods";

/// What `helm template` prints for a small broken release: a Service whose
/// named targetPort is misspelt, a StatefulSet probing an undeclared port and
/// mounting a ConfigMap key that does not exist, and a budget selecting nothing.
const RENDERED: &str = r#"---
# Source: distributed-memcached/templates/cache-pdb.yaml
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: rel-memcached
  namespace: cache
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/component: memcached
---
# Source: distributed-memcached/templates/proxy-configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: rel-memcached-proxy
  namespace: cache
data:
  routes.lua: "-- routes"
---
# Source: distributed-memcached/templates/cache-service.yaml
apiVersion: v1
kind: Service
metadata:
  name: rel-memcached
  namespace: cache
spec:
  clusterIP: None
  selector:
    app.kubernetes.io/component: cache
  ports:
    - name: memcache
      port: 11211
      targetPort: memcached
---
# Source: distributed-memcached/templates/cache-statefulset.yaml
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: rel-memcached
  namespace: cache
spec:
  serviceName: rel-memcached
  selector:
    matchLabels:
      app.kubernetes.io/component: cache
  template:
    metadata:
      labels:
        app.kubernetes.io/component: cache
    spec:
      containers:
        - name: memcached
          image: memcached:1.6.38
          ports:
            - name: memcache
              containerPort: 11211
          readinessProbe:
            tcpSocket:
              port: 11311
          volumeMounts:
            - name: config
              mountPath: /etc/memcached/config.lua
              subPath: config.lua
      volumes:
        - name: config
          configMap:
            name: rel-memcached-proxy
"#;

fn check_in(dir: &Path, args: &[&str], stdin: &[u8]) -> Run {
    run(mclint().current_dir(dir).arg("check").args(args), stdin)
}

/// The templates behind `RENDERED` (a chart written for these tests, so that
/// the template lines in `sarif` and `github` output do not move when the
/// bundled chart changes): the Service writes its ports itself, the
/// StatefulSet's container comes from a named template in `_helpers.tpl`.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "Chart.yaml",
        "apiVersion: v2\nname: distributed-memcached\nversion: 0.1.0\nappVersion: \"1.6.38\"\n",
    ),
    (
        "templates/_helpers.tpl",
        r#"{{/* Names and labels. */}}
{{- define "dm.fullname" -}}
{{ .Release.Name }}-memcached
{{- end }}

{{- define "dm.component" -}}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The memcached container. */}}
{{- define "dm.container" -}}
- name: memcached
  image: memcached:{{ .Chart.AppVersion }}
  ports:
    - name: memcache
      containerPort: 11211
  readinessProbe:
    tcpSocket:
      port: {{ .Values.probePort }}
  volumeMounts:
    - name: config
      mountPath: /etc/memcached/config.lua
      subPath: config.lua
{{- end }}
"#,
    ),
    (
        "templates/cache-pdb.yaml",
        r#"apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "dm.fullname" . }}
  namespace: {{ .Release.Namespace }}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      {{- include "dm.component" (dict "component" "memcached") | nindent 6 }}
"#,
    ),
    (
        "templates/proxy-configmap.yaml",
        r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "dm.fullname" . }}-proxy
  namespace: {{ .Release.Namespace }}
data:
  routes.lua: {{ .Values.routes | quote }}
"#,
    ),
    (
        "templates/cache-service.yaml",
        r#"{{- /* The headless Service of the cache pods. */}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "dm.fullname" . }}
  namespace: {{ .Release.Namespace }}
spec:
  clusterIP: None
  selector:
    {{- include "dm.component" (dict "component" "cache") | nindent 4 }}
  ports:
    - name: memcache
      port: 11211
      targetPort: memcached
"#,
    ),
    (
        "templates/cache-statefulset.yaml",
        r#"apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "dm.fullname" . }}
  namespace: {{ .Release.Namespace }}
spec:
  serviceName: {{ include "dm.fullname" . }}
  selector:
    matchLabels:
      {{- include "dm.component" (dict "component" "cache") | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "dm.component" (dict "component" "cache") | nindent 8 }}
    spec:
      containers:
        {{- include "dm.container" . | nindent 8 }}
      volumes:
        - name: config
          configMap:
            name: {{ include "dm.fullname" . }}-proxy
"#,
    ),
];

fn write_chart(dir: &Path) {
    for (file, text) in TEMPLATES {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn rendered_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rendered.yaml"), RENDERED).unwrap();
    write_chart(&dir.path().join("charts/distributed-memcached"));
    dir
}

#[test]
fn text() {
    let dir = rendered_dir();
    let r = check_in(
        dir.path(),
        &["--select", CROSS, "--color", "never", "rendered.yaml"],
        b"",
    );
    insta::assert_snapshot!(r.snapshot());
}

#[test]
fn json() {
    let dir = rendered_dir();
    let r = check_in(
        dir.path(),
        &["--select", CROSS, "-f", "json", "rendered.yaml"],
        b"",
    );
    insta::assert_snapshot!(r.snapshot());
}

#[test]
fn sarif() {
    let dir = rendered_dir();
    let r = check_in(
        dir.path(),
        &["--select", CROSS, "-f", "sarif", "rendered.yaml"],
        b"",
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut v: Value = serde_json::from_str(&r.stdout).unwrap();
    // The rule table and rule positions change as rules are added: checked in cli_writers.
    let run = &mut v["runs"][0];
    run["tool"]["driver"]["rules"] = json!("[the rule table]");
    run["tool"]["driver"]["version"] = json!("[version]");
    run["tool"]["driver"]["semanticVersion"] = json!("[version]");
    for r in run["results"].as_array_mut().unwrap() {
        r["ruleIndex"] = json!("[index]");
    }
    insta::assert_snapshot!(serde_json::to_string_pretty(&v).unwrap());
}

#[test]
fn junit() {
    let dir = rendered_dir();
    let r = check_in(
        dir.path(),
        &["--select", CROSS, "-f", "junit", "rendered.yaml"],
        b"",
    );
    insta::assert_snapshot!(r.snapshot());
}

#[test]
fn github() {
    let dir = rendered_dir();
    let r = check_in(
        dir.path(),
        &["--select", CROSS, "-f", "github", "rendered.yaml"],
        b"",
    );
    insta::assert_snapshot!(r.snapshot());
}

#[test]
fn github_with_a_chart_dir_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    write_chart(&dir.path().join("deploy/cache"));
    let r = check_in(
        dir.path(),
        &[
            "--select",
            CROSS,
            "-f",
            "github",
            "--chart-dir",
            "deploy/cache",
        ],
        RENDERED.as_bytes(),
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("::error file=deploy/cache/templates/cache-service.yaml,line=14,"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("(rendered: <stdin>:36)"), "{}", r.stdout);
    // The probe port is written by the named template the StatefulSet includes.
    assert!(
        r.stdout.contains(
            "::warning file=deploy/cache/templates/_helpers.tpl,line=19,title=mclint port-number-undeclared"
        ),
        "{}",
        r.stdout
    );
    // Without the chart on disk: line 1, and the message says why.
    let elsewhere = tempfile::tempdir().unwrap();
    let r = check_in(
        elsewhere.path(),
        &[
            "--select",
            CROSS,
            "-f",
            "github",
            "--chart-dir",
            "deploy/cache",
        ],
        RENDERED.as_bytes(),
    );
    assert!(
        r.stdout
            .contains("::error file=deploy/cache/templates/cache-service.yaml,line=1,"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("template line unknown: chart directory not found"),
        "{}",
        r.stdout
    );
}

#[test]
fn exit_codes() {
    let dir = rendered_dir();
    let clean = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n";
    std::fs::write(dir.path().join("clean.yaml"), clean).unwrap();
    let code = |args: &[&str]| check_in(dir.path(), args, b"").code;
    // Clean: 0.
    assert_eq!(code(&["--select", CROSS, "clean.yaml"]), 0);
    // Errors: 1, unless --fail-on never.
    assert_eq!(code(&["--select", CROSS, "rendered.yaml"]), 1);
    assert_eq!(
        code(&["--select", CROSS, "--fail-on", "never", "rendered.yaml"]),
        0
    );
    // Only a warning: 0 by default, 1 with --fail-on warning or info.
    let warn = &["--select", "port-number-undeclared", "rendered.yaml"];
    assert_eq!(code(warn), 0);
    assert_eq!(
        code(&[warn as &[&str], &["--fail-on", "warning"]].concat()),
        1
    );
    assert_eq!(code(&[warn as &[&str], &["--fail-on", "info"]].concat()), 1);
    // Only info: 1 only with --fail-on info.
    let info = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: i, envFrom: [{configMapRef: {name: elsewhere}}]}]\n";
    std::fs::write(dir.path().join("info.yaml"), info).unwrap();
    assert_eq!(
        code(&[
            "--select",
            "configmap-not-rendered",
            "--fail-on",
            "warning",
            "info.yaml"
        ]),
        0
    );
    assert_eq!(
        code(&[
            "--select",
            "configmap-not-rendered",
            "--fail-on",
            "info",
            "info.yaml"
        ]),
        1
    );
    // Could not run: 2, also when the other inputs are clean.
    assert_eq!(code(&["--select", CROSS, "clean.yaml", "missing.yaml"]), 2);
    assert_eq!(code(&["--select", "no-such-rule", "clean.yaml"]), 2);
    // A usage error is clap's 2 as well.
    assert_eq!(code(&["--format", "xml", "clean.yaml"]), 2);
}

#[test]
fn severity_override_from_config_changes_the_exit_code() {
    let dir = rendered_dir();
    std::fs::write(
        dir.path().join(".mclint.yaml"),
        "severity:\n  named-port-undeclared: warning\n  configmap-key-missing: info\n  statefulset-service-missing: info\n",
    )
    .unwrap();
    let r = check_in(
        dir.path(),
        &[
            "--select",
            "named-port-undeclared,configmap-key-missing",
            "rendered.yaml",
        ],
        b"",
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout.contains("warning[named-port-undeclared]"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("info[configmap-key-missing]"),
        "{}",
        r.stdout
    );
}

/// The bundled chart, in every CI configuration, is consistent across objects.
#[test]
fn the_chart_passes_the_cross_object_rules() {
    let ci = support::repo().join("charts/distributed-memcached/ci");
    let mut values: Vec<_> = std::fs::read_dir(&ci)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    values.sort();
    let mut configs: Vec<Vec<String>> = vec![vec![]];
    configs.extend(
        values
            .iter()
            .map(|v| vec!["-f".to_string(), v.display().to_string()]),
    );
    for args in configs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let rendered = helm_template("rel", "cache", &args);
        let dir = tempfile::tempdir().unwrap();
        let r = check_in(
            dir.path(),
            &["--select", CROSS, "--fail-on", "info"],
            rendered.as_bytes(),
        );
        assert_eq!(r.code, 0, "values {args:?}:\n{}{}", r.stdout, r.stderr);
    }
}

/// A misspelt port name in the chart is caught and annotated on the template.
#[test]
fn a_broken_chart_is_annotated_on_its_template() {
    let rendered = helm_template("rel", "cache", &[]);
    let service_start = rendered
        .find("# Source: distributed-memcached/templates/cache-service.yaml")
        .expect("the chart renders a cache Service");
    let (head, tail) = rendered.split_at(service_start);
    let broken = format!(
        "{head}{}",
        tail.replacen("targetPort: memcache\n", "targetPort: memcahe\n", 1)
    );
    assert_ne!(
        broken, rendered,
        "the cache Service targets the port `memcache` by name"
    );
    // From the repository root, where `charts/distributed-memcached` is.
    let r = check_in(
        &support::repo(),
        &["--select", CROSS, "-f", "github"],
        broken.as_bytes(),
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let line = r
        .stdout
        .lines()
        .find(|l| {
            l.starts_with(
                "::error file=charts/distributed-memcached/templates/cache-service.yaml,line=",
            )
        })
        .unwrap_or_else(|| panic!("no annotation on the template:\n{}", r.stdout));
    assert!(
        line.contains("title=mclint named-port-undeclared"),
        "{line}"
    );
    assert!(line.contains("`memcahe`"), "{line}");
    // The line is the template's `targetPort` line; the rendered line is in
    // the message.
    let n: usize = line
        .split("line=")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let template = std::fs::read_to_string(
        support::repo().join("charts/distributed-memcached/templates/cache-service.yaml"),
    )
    .unwrap();
    assert!(
        template
            .lines()
            .nth(n - 1)
            .unwrap()
            .trim()
            .starts_with("targetPort:"),
        "line {n} of cache-service.yaml: {line}"
    );
    let rendered_line: usize = line
        .split("(rendered: <stdin>:")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no rendered line in {line}"));
    assert_eq!(
        broken.lines().nth(rendered_line - 1).unwrap().trim(),
        "targetPort: memcahe"
    );
}

/// Objects without `metadata.namespace` land where the rendering is applied:
/// `-n shop` says so, as `helm install -n shop` would.
#[test]
fn namespace_flag_places_objects_without_a_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx:1.27, ports: [{containerPort: 80}]}]\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let out = support::mclint()
            .args([
                "check",
                "--select",
                "service-selects-no-pods",
                "--format",
                "json",
            ])
            .args(extra)
            .arg(&file)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["summary"]["errors"].as_u64().unwrap()
    };
    assert_eq!(run(&[]), 1, "in `default` the Service selects nothing");
    assert_eq!(run(&["-n", "shop"]), 0);
    assert_eq!(run(&["--namespace", "shop"]), 0);
}
