//! The chart as production clusters use it: the values other charts taught
//! users (registries, pull secrets, shared annotations and scheduling, a
//! namespace override), keys that mean something else here refused with the
//! right name, the extension points landing in their pods, rollout settings,
//! and Chart.yaml's artifacthub metadata agreeing with values.yaml.

mod support;

use std::sync::Arc;

use mclint::manifest::{Input, InputKind, as_object, parse_stream};
use mclint::yaml::parse_document;
use serde_json::{Value, json};
use support::*;

fn chart() -> std::path::PathBuf {
    repo().join("charts/distributed-memcached")
}

fn ci(name: &str) -> String {
    chart()
        .join("ci")
        .join(format!("{name}-values.yaml"))
        .display()
        .to_string()
}

fn objects_of(text: &str) -> Vec<Value> {
    let input = Input {
        name: Arc::from("rendering"),
        kind: InputKind::Yaml,
        text: text.to_string(),
    };
    parse_stream(&input)
        .iter()
        .filter_map(|d| as_object(d)?.ok())
        .map(|o| o.json.to_serde())
        .collect()
}

fn render(args: &[&str]) -> Vec<Value> {
    objects_of(&helm_template("shop", "shop", args))
}

/// `helm template` that must fail; returns its standard error.
fn refused(args: &[&str]) -> String {
    let out = helm()
        .args(["template", "shop"])
        .arg(chart())
        .args(["-n", "shop"])
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{args:?} was accepted");
    stderr
}

fn one<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = objects.iter().filter(|o| o["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "one {kind} expected");
    found[0]
}

/// (object description, pod spec) of every workload and bare pod.
fn pod_specs(objects: &[Value]) -> Vec<(String, &Value)> {
    objects
        .iter()
        .filter_map(|o| {
            let spec = match o["kind"].as_str()? {
                "Pod" => &o["spec"],
                "StatefulSet" | "DaemonSet" | "Deployment" => &o["spec"]["template"]["spec"],
                _ => return None,
            };
            Some((
                format!(
                    "{} {}",
                    o["kind"].as_str()?,
                    o["metadata"]["name"].as_str()?
                ),
                spec,
            ))
        })
        .collect()
}

fn containers(spec: &Value) -> Vec<&Value> {
    ["initContainers", "containers"]
        .iter()
        .flat_map(|k| spec[*k].as_array().into_iter().flatten())
        .collect()
}

fn named<'a>(list: &'a Value, name: &str) -> Option<&'a Value> {
    list.as_array()?.iter().find(|x| x["name"] == name)
}

const SIDECAR_APP: &str = "app.containers[0].name=app,app.containers[0].image=nginx:1.27";

#[test]
fn registries_pull_secrets_annotations_and_namespace_reach_every_object() {
    for mode in [
        "cache",
        "daemonset",
        "sidecar",
        "sidecar-failover",
        "replicated-sharded",
    ] {
        let objects = render(&[
            "--set",
            &format!("mode={mode}"),
            "--set",
            SIDECAR_APP,
            "--set",
            "global.imageRegistry=mirror.example.com:5000,image.registry=ignored.example.com",
            "--set",
            "global.imagePullSecrets[0]=global-cred,imagePullSecrets[0].name=chart-cred",
            "--set",
            "commonAnnotations.example\\.com/owner=team-cache",
            "--set",
            "namespaceOverride=caching",
            "--set",
            "metrics.enabled=true",
        ]);
        assert!(objects.len() > 4, "{mode}");
        for o in &objects {
            let what = format!("{mode}: {} {}", o["kind"], o["metadata"]["name"]);
            assert_eq!(o["metadata"]["namespace"], "caching", "{what}");
            assert_eq!(
                o["metadata"]["annotations"]["example.com/owner"], "team-cache",
                "{what}"
            );
        }
        for (what, spec) in pod_specs(&objects) {
            let secrets: Vec<&str> = spec["imagePullSecrets"]
                .as_array()
                .unwrap_or_else(|| panic!("{mode}: {what} has no imagePullSecrets"))
                .iter()
                .filter_map(|s| s["name"].as_str())
                .collect();
            assert_eq!(secrets, ["global-cred", "chart-cred"], "{mode}: {what}");
            for c in containers(spec) {
                let image = c["image"].as_str().unwrap();
                if c["name"] == "app" {
                    assert_eq!(image, "nginx:1.27", "the user's image is left alone");
                } else {
                    assert!(
                        image.starts_with("mirror.example.com:5000/"),
                        "{mode}: {what} {}: {image}",
                        c["name"]
                    );
                }
            }
        }
        // The cache pods' DNS names follow the namespace.
        if mode != "cache" {
            let cm = objects
                .iter()
                .find(|o| o["kind"] == "ConfigMap" && o["data"]["proxy.lua"].is_string())
                .unwrap();
            let lua = cm["data"]["proxy.lua"].as_str().unwrap();
            assert!(lua.contains(".caching.svc.cluster.local:11211"), "{lua}");
            assert!(!lua.contains(".shop.svc."), "{lua}");
        }
        // The test pod keeps its hook annotations next to the common ones.
        let test = one(&objects, "Pod");
        assert_eq!(test["metadata"]["annotations"]["helm.sh/hook"], "test");
    }
}

#[test]
fn an_image_registry_and_digest_make_one_reference() {
    let digest = format!("sha256:{}", "0123456789abcdef".repeat(4));
    let objects = render(&[
        "--set",
        &format!("image.registry=registry.example.com,image.digest={digest}"),
    ]);
    let sts = one(&objects, "StatefulSet");
    assert_eq!(
        sts["spec"]["template"]["spec"]["containers"][0]["image"],
        format!("registry.example.com/memcached@{digest}")
    );
    for bad in ["sha256:xyz", "sha256:0123", "registry/path", "a b"] {
        let key = if bad.starts_with("sha256") {
            "image.digest"
        } else {
            "image.registry"
        };
        let err = refused(&["--set", &format!("{key}={bad}")]);
        assert!(
            err.contains(&format!("/{}", key.replace('.', "/"))),
            "{key}={bad}: {err}"
        );
    }
}

#[test]
fn top_level_scheduling_is_the_default_of_every_pod() {
    let objects = render(&[
        "--set",
        "mode=sidecar",
        "--set",
        SIDECAR_APP,
        "--set-json",
        r#"nodeSelector={"pool":"shared"}"#,
        "--set-json",
        r#"tolerations=[{"key":"dedicated","operator":"Exists","effect":"NoSchedule"}]"#,
        "--set-json",
        r#"affinity={"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"zone","operator":"In","values":["a"]}]}]}}}"#,
        "--set-json",
        r#"app.nodeSelector={"pool":"app"}"#,
    ]);
    let specs = pod_specs(&objects);
    assert_eq!(specs.len(), 3, "cache, app, test");
    for (what, spec) in &specs {
        let own = what.starts_with("Deployment");
        assert_eq!(
            spec["nodeSelector"],
            if own {
                json!({"pool": "app"})
            } else {
                json!({"pool": "shared"})
            },
            "{what}"
        );
        assert_eq!(spec["tolerations"][0]["key"], "dedicated", "{what}");
        assert_eq!(
            spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
                [0]["matchExpressions"][0]["key"],
            "zone",
            "{what}"
        );
    }
    // Cache pods keep their one-per-node anti-affinity next to the shared affinity.
    let sts = one(&objects, "StatefulSet");
    let anti = &sts["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"];
    assert_eq!(
        anti["requiredDuringSchedulingIgnoredDuringExecution"][0]["labelSelector"]["matchLabels"]["app.kubernetes.io/component"],
        "cache",
        "{anti}"
    );
    // Without shared affinity, the generated anti-affinity alone, as before.
    let plain = render(&[]);
    let affinity = &one(&plain, "StatefulSet")["spec"]["template"]["spec"]["affinity"];
    assert_eq!(
        affinity.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["podAntiAffinity"]
    );
}

/// Keys that other charts use for something this chart calls otherwise are
/// refused with the name to use, by the chart itself: values.schema.json lets
/// exactly these through, and refuses any other unknown key.
#[test]
fn keys_from_other_charts_are_refused_with_the_value_to_use() {
    for (key, value, want) in [
        ("replicaCount", "3", "`cache.replicas`"),
        ("resources.limits.memory", "1Gi", "`cache.resources`"),
        ("podAnnotations.a", "b", "`cache.podAnnotations`"),
        (
            "securityContext.runAsUser",
            "1",
            "`containerSecurityContext`",
        ),
        (
            "service.type",
            "ClusterIP",
            "`cache.service` (the headless Service) or `proxy.service`",
        ),
        (
            "terminationGracePeriodSeconds",
            "5",
            "`cache.terminationGracePeriodSeconds`",
        ),
        ("extraEnvVars[0].name", "A", "`cache.extraEnv`"),
    ] {
        let err = refused(&["--set", &format!("{key}={value}")]);
        let top = key.split(['.', '[']).next().unwrap();
        assert!(
            err.contains(&format!(
                "{top}: not a value of this chart; did you mean {want}"
            )),
            "{key}: {err}"
        );
    }
    let err = refused(&["--set", "replicaCnt=3"]);
    assert!(err.contains("replicaCnt"), "{err}");
}

/// Every volume a container mounts is a volume of its pod, in every ci
/// rendering (extension points add both, in different values).
#[test]
fn every_mount_names_a_volume_of_its_pod() {
    let files: Vec<_> = std::fs::read_dir(chart().join("ci"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let mut mounts = 0;
    for file in files {
        let objects = render(&["-f", file.to_str().unwrap()]);
        for (what, spec) in pod_specs(&objects) {
            let volumes: Vec<&str> = spec["volumes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v["name"].as_str())
                .collect();
            let mut unique = volumes.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), volumes.len(), "{what}: {volumes:?}");
            for c in containers(spec) {
                for m in c["volumeMounts"].as_array().into_iter().flatten() {
                    mounts += 1;
                    let name = m["name"].as_str().unwrap();
                    assert!(
                        volumes.contains(&name),
                        "{}: {what} container {} mounts {name}, not among {volumes:?}",
                        file.display(),
                        c["name"]
                    );
                }
            }
        }
    }
    assert!(mounts > 10, "{mounts} mounts");
}

#[test]
fn the_extension_points_land_in_their_pods() {
    let objects = render(&["-f", &ci("daemonset-production")]);
    let sts = &one(&objects, "StatefulSet")["spec"];
    let pod = &sts["template"]["spec"];
    let memcached = named(&pod["containers"], "memcached").unwrap();
    assert_eq!(memcached["env"], json!([{"name": "TZ", "value": "UTC"}]));
    assert_eq!(
        memcached["envFrom"][0]["configMapRef"]["name"],
        "memcached-extra"
    );
    assert_eq!(memcached["volumeMounts"][0]["mountPath"], "/scratch");
    assert!(memcached["lifecycle"]["postStart"].is_object());
    assert_eq!(memcached["startupProbe"]["periodSeconds"], 1);
    assert_eq!(memcached["startupProbe"]["tcpSocket"]["port"], "memcache");
    assert!(named(&pod["containers"], "log-shipper").is_some());
    assert!(named(&pod["initContainers"], "wait-a-moment").is_some());
    assert!(named(&pod["volumes"], "scratch").is_some());
    assert_eq!(sts["minReadySeconds"], 15);
    assert_eq!(sts["updateStrategy"]["rollingUpdate"]["partition"], 0);

    let ds = &one(&objects, "DaemonSet")["spec"];
    assert_eq!(ds["minReadySeconds"], 5);
    assert_eq!(
        ds["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}})
    );
    let pod = &ds["template"]["spec"];
    assert_eq!(pod["terminationGracePeriodSeconds"], 45);
    assert_eq!(
        ds["template"]["metadata"]["labels"]["example.com/tier"],
        "cache-proxy"
    );
    let proxy = named(&pod["containers"], "memcached-proxy").unwrap();
    assert_eq!(proxy["env"][0]["name"], "POD_NAME");
    assert_eq!(proxy["lifecycle"]["preStop"]["sleep"]["seconds"], 15);
    assert_eq!(proxy["volumeMounts"][1]["name"], "extra-lua");
    assert!(named(&pod["containers"], "heartbeat").is_some());
    assert!(named(&pod["initContainers"], "wait-a-moment").is_some());

    // extraDeploy: a map and a string, both through tpl.
    let cms: Vec<&str> = objects
        .iter()
        .filter(|o| o["kind"] == "ConfigMap")
        .filter_map(|o| o["metadata"]["name"].as_str())
        .collect();
    assert!(cms.contains(&"memcached-extra"), "{cms:?}");
    assert!(cms.contains(&"shop-notes"), "{cms:?}");
    let notes = objects
        .iter()
        .find(|o| o["metadata"]["name"] == "shop-notes")
        .unwrap();
    assert_eq!(notes["data"]["mode"], "daemonset");
    assert_eq!(notes["metadata"]["namespace"], "shop");

    let objects = render(&["-f", &ci("sidecar-failover-production")]);
    let deploy = &one(&objects, "Deployment")["spec"];
    assert_eq!(deploy["strategy"]["rollingUpdate"]["maxUnavailable"], 0);
    assert_eq!(deploy["minReadySeconds"], 5);
    // The sidecars carry their extension points in the app pods and the test pod.
    for pod in [&deploy["template"]["spec"], &one(&objects, "Pod")["spec"]] {
        let local = named(&pod["initContainers"], "memcached-local").unwrap();
        assert_eq!(local["env"][0]["name"], "TZ");
        assert_eq!(local["volumeMounts"][0]["name"], "local-scratch");
        assert!(local["lifecycle"]["postStart"].is_object());
        let proxy = named(&pod["initContainers"], "memcached-proxy").unwrap();
        assert_eq!(proxy["env"][0]["name"], "GOMAXPROCS");
        assert!(
            proxy["lifecycle"].is_null(),
            "native sidecars stop after the app: no drain"
        );
        for v in ["memcached-proxy-config", "proxy-scratch", "local-scratch"] {
            assert!(named(&pod["volumes"], v).is_some(), "{v}");
        }
    }
}

#[test]
fn the_proxy_drain_uses_the_sleep_action_where_the_cluster_has_it() {
    for (version, sleep_action) in [("1.29.0", false), ("1.30.0", true), ("1.33.2", true)] {
        let objects = render(&["--set", "mode=daemonset", "--kube-version", version]);
        let ds = one(&objects, "DaemonSet");
        let pre_stop = &ds["spec"]["template"]["spec"]["containers"][0]["lifecycle"]["preStop"];
        if sleep_action {
            assert_eq!(pre_stop, &json!({"sleep": {"seconds": 10}}), "{version}");
        } else {
            assert_eq!(
                pre_stop,
                &json!({"exec": {"command": ["sleep", "10"]}}),
                "{version}"
            );
        }
    }
    let objects = render(&["--set", "mode=daemonset,proxy.daemonset.drainSeconds=0"]);
    let c = &one(&objects, "DaemonSet")["spec"]["template"]["spec"]["containers"][0];
    assert!(c["lifecycle"].is_null(), "{c}");
    let err = refused(&[
        "--set",
        "mode=daemonset,proxy.daemonset.drainSeconds=30,proxy.daemonset.terminationGracePeriodSeconds=30",
    ]);
    assert!(err.contains("proxy.daemonset.drainSeconds"), "{err}");
    let err = refused(&[
        "--set",
        "mode=daemonset,proxy.daemonset.maxUnavailable=0,proxy.daemonset.maxSurge=0",
    ]);
    assert!(err.contains("proxy.daemonset.maxUnavailable"), "{err}");
}

#[test]
fn names_that_collide_with_the_charts_own_are_refused() {
    for (args, want) in [
        (
            "cache.sidecars[0].name=memcached,cache.sidecars[0].image=x",
            "cache.sidecars: container name \"memcached\"",
        ),
        (
            "mode=daemonset,proxy.extraVolumes[0].name=memcached-proxy-config",
            "proxy.extraVolumes: volume name \"memcached-proxy-config\"",
        ),
        (
            "mode=sidecar-failover,app.containers[0].name=memcached-local,app.containers[0].image=x",
            "app.containers: container name \"memcached-local\"",
        ),
    ] {
        let err = refused(&["--set", args]);
        assert!(err.contains(want), "{args}: {err}");
    }
}

/// Chart.yaml's `artifacthub.io/images` lists exactly the images the default
/// values run.
#[test]
fn artifacthub_images_agree_with_values_yaml() {
    let read = |f: &str| {
        let text = std::fs::read_to_string(chart().join(f)).unwrap();
        parse_document(&text, 1)
            .unwrap()
            .root
            .unwrap()
            .to_json()
            .to_serde()
    };
    let meta = read("Chart.yaml");
    let values = read("values.yaml");
    assert_eq!(meta["kubeVersion"], ">=1.29.0-0");
    for key in ["icon", "home"] {
        assert!(meta[key].as_str().unwrap().starts_with("https://"), "{key}");
    }
    assert!(!meta["maintainers"].as_array().unwrap().is_empty());
    let annotations = &meta["annotations"];
    assert_eq!(annotations["artifacthub.io/license"], "Apache-2.0");
    let images_text = annotations["artifacthub.io/images"].as_str().unwrap();
    let images = parse_document(images_text, 1)
        .unwrap()
        .root
        .unwrap()
        .to_json();
    let listed: Vec<String> = images
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["image"].as_str().unwrap().to_string())
        .collect();
    let reference = |i: &Value| {
        let repo = i["repository"].as_str().unwrap();
        let registry = i["registry"].as_str().unwrap_or("");
        let repo = if registry.is_empty() {
            repo.to_string()
        } else {
            format!("{registry}/{repo}")
        };
        match i["digest"].as_str() {
            Some(d) if !d.is_empty() => format!("{repo}@{d}"),
            _ => format!("{repo}:{}", i["tag"].as_str().unwrap()),
        }
    };
    let wanted = vec![
        reference(&values["image"]),
        reference(&values["metrics"]["image"]),
        reference(&values["tests"]["image"]),
    ];
    assert_eq!(listed, wanted);
    assert_eq!(
        values["image"]["tag"], meta["appVersion"],
        "the default memcached tag is the appVersion"
    );
    let changes = parse_document(annotations["artifacthub.io/changes"].as_str().unwrap(), 1)
        .unwrap()
        .root
        .unwrap()
        .to_json();
    for c in changes.as_array().unwrap() {
        assert!(
            [
                "added",
                "changed",
                "deprecated",
                "removed",
                "fixed",
                "security"
            ]
            .contains(&c["kind"].as_str().unwrap()),
            "{c}"
        );
        assert!(!c["description"].as_str().unwrap().is_empty());
    }
}

/// A chart upgrade that changes nothing in the pods restarts none: pod
/// templates carry no label that moves with the chart version (a restarted
/// cache pod comes back empty).
#[test]
fn a_new_chart_version_alone_leaves_the_pod_templates_as_they_were() {
    fn copy(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &to.join(e.file_name()));
            } else {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let bumped = dir.path().join("distributed-memcached");
    copy(&chart(), &bumped);
    let meta = std::fs::read_to_string(bumped.join("Chart.yaml")).unwrap();
    let version = meta
        .lines()
        .find_map(|l| l.strip_prefix("version: "))
        .unwrap()
        .to_string();
    std::fs::write(
        bumped.join("Chart.yaml"),
        meta.replace(&format!("version: {version}"), "version: 99.0.0"),
    )
    .unwrap();
    for mode in ["daemonset", "sidecar-failover"] {
        let render_from = |c: &std::path::Path| {
            let out = helm()
                .args(["template", "shop"])
                .arg(c)
                .args([
                    "-n",
                    "shop",
                    "--set",
                    &format!("mode={mode}"),
                    "--set",
                    SIDECAR_APP,
                ])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            objects_of(&String::from_utf8_lossy(&out.stdout))
        };
        let (old, new) = (render_from(&chart()), render_from(&bumped));
        let mut templates = 0;
        for (o, n) in old.iter().zip(&new) {
            assert_eq!(o["kind"], n["kind"]);
            if o["spec"]["template"].is_object() {
                templates += 1;
                assert_eq!(
                    o["spec"]["template"], n["spec"]["template"],
                    "{mode}: {}",
                    o["kind"]
                );
                // The objects themselves still say which chart made them.
                assert_ne!(o["metadata"]["labels"], n["metadata"]["labels"]);
            }
        }
        assert!(templates >= 2, "{mode}");
    }
}
