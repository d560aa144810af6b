//! Project tasks.
//!
//! `cargo run -p xtask -- gen-schemas [--out DIR]` writes the strict JSON schemas of
//! the Kubernetes version this build of the xtask was compiled for (k8s-openapi
//! selects one version per build, through the `v1_XX` features) to
//! `DIR/v1.XX/` (default `schemas/`).
//!
//! `cargo run -p xtask -- gen-schemas --all [--out DIR]` builds and runs the xtask
//! once per supported version and then writes `src/schema/embedded.rs`, the table
//! that compiles every version into mclint.

mod strict;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use serde_json::Value;

/// Kubernetes versions k8s-openapi 0.29 can be built for (xtask features `v1_33` … `v1_37`).
const VERSIONS: &[&str] = &["1.33", "1.34", "1.35", "1.36", "1.37"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::from(2)
        }
    }
}

fn usage() -> String {
    "usage: cargo run -p xtask -- gen-schemas [--all] [--out DIR] [--no-embed] | embed-schemas\n  \
     without --all: the version this build was compiled for (feature v1_XX)\n  \
     --all: every supported version, each by its own build, then src/schema/embedded.rs\n  \
     embed-schemas: only rewrite src/schema/embedded.rs from schemas/"
        .to_string()
}

fn run(args: &[String]) -> Result<(), String> {
    let Some((cmd, rest)) = args.split_first() else {
        return Err(usage());
    };
    if cmd == "embed-schemas" {
        return write_embedded(
            &repo_root().join("schemas"),
            &repo_root().join("src/schema/embedded.rs"),
        );
    }
    if cmd != "gen-schemas" {
        return Err(format!("unknown task `{cmd}`\n{}", usage()));
    }
    let mut out = repo_root().join("schemas");
    let mut all = false;
    let mut embed = true;
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--all" => all = true,
            "--no-embed" => embed = false,
            "--out" => out = PathBuf::from(it.next().ok_or("--out needs a directory")?),
            other => return Err(format!("unknown argument `{other}`\n{}", usage())),
        }
    }
    if all {
        for v in VERSIONS {
            let feature = format!("v1_{}", v.trim_start_matches("1."));
            eprintln!("xtask: generating Kubernetes {v} (feature {feature})");
            let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .current_dir(repo_root())
                // A target directory of its own: five k8s-openapi builds must
                // not hold the workspace's build lock for minutes.
                .arg("run")
                .arg("--target-dir")
                .arg(repo_root().join("target/xtask"))
                .args([
                    "--quiet",
                    "-p",
                    "xtask",
                    "--no-default-features",
                    "--features",
                    &feature,
                ])
                .args(["--", "gen-schemas", "--out"])
                .arg(&out)
                .status()
                .map_err(|e| format!("cannot run cargo: {e}"))?;
            if !status.success() {
                return Err(format!("generating {v} failed ({status})"));
            }
        }
        if embed {
            write_embedded(&out, &repo_root().join("src/schema/embedded.rs"))?;
        }
        Ok(())
    } else {
        generate(&out)
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the repository root")
        .to_path_buf()
}

/// The Kubernetes version k8s-openapi was compiled for, as `1.XX`.
fn compiled_version() -> String {
    use k8s_openapi::k8s_match;
    let v: &str = k8s_match!((), {
        k8s_if_1_33!(() => "1.33"),
        k8s_if_1_34!(() => "1.34"),
        k8s_if_1_35!(() => "1.35"),
        k8s_if_1_36!(() => "1.36"),
        k8s_if_1_37!(() => "1.37"),
    });
    v.to_string()
}

/// One top-level kind: its identity and its raw (schemars) schema.
struct Kind {
    api_version: &'static str,
    kind: &'static str,
    schema: Value,
}

fn kind<T: k8s_openapi::Resource + schemars::JsonSchema>() -> Kind {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let schema = generator.root_schema_for::<T>();
    Kind {
        api_version: T::API_VERSION,
        kind: T::KIND,
        schema: schema.to_value(),
    }
}

/// The generated kinds: every top-level resource of apps/v1, core/v1, policy/v1,
/// networking.k8s.io/v1, batch/v1, autoscaling/v1 and v2, rbac.authorization.k8s.io/v1
/// and coordination.k8s.io/v1 (subresource-only kinds such as Eviction and Scale
/// are left out). Only GA versions are listed: alpha and beta versions are off by
/// default in a cluster, so they are not "served" in the sense the index means.
fn kinds() -> Vec<Kind> {
    use k8s_openapi::api::{
        apps, autoscaling, batch, coordination, core, networking, policy, rbac,
    };
    vec![
        kind::<apps::v1::ControllerRevision>(),
        kind::<apps::v1::DaemonSet>(),
        kind::<apps::v1::Deployment>(),
        kind::<apps::v1::ReplicaSet>(),
        kind::<apps::v1::StatefulSet>(),
        kind::<core::v1::Binding>(),
        kind::<core::v1::ComponentStatus>(),
        kind::<core::v1::ConfigMap>(),
        kind::<core::v1::Endpoints>(),
        kind::<core::v1::Event>(),
        kind::<core::v1::LimitRange>(),
        kind::<core::v1::Namespace>(),
        kind::<core::v1::Node>(),
        kind::<core::v1::PersistentVolume>(),
        kind::<core::v1::PersistentVolumeClaim>(),
        kind::<core::v1::Pod>(),
        kind::<core::v1::PodTemplate>(),
        kind::<core::v1::ReplicationController>(),
        kind::<core::v1::ResourceQuota>(),
        kind::<core::v1::Secret>(),
        kind::<core::v1::Service>(),
        kind::<core::v1::ServiceAccount>(),
        kind::<policy::v1::PodDisruptionBudget>(),
        kind::<networking::v1::IPAddress>(),
        kind::<networking::v1::Ingress>(),
        kind::<networking::v1::IngressClass>(),
        kind::<networking::v1::NetworkPolicy>(),
        kind::<networking::v1::ServiceCIDR>(),
        kind::<batch::v1::CronJob>(),
        kind::<batch::v1::Job>(),
        kind::<autoscaling::v1::HorizontalPodAutoscaler>(),
        kind::<autoscaling::v2::HorizontalPodAutoscaler>(),
        kind::<rbac::v1::ClusterRole>(),
        kind::<rbac::v1::ClusterRoleBinding>(),
        kind::<rbac::v1::Role>(),
        kind::<rbac::v1::RoleBinding>(),
        kind::<coordination::v1::Lease>(),
    ]
}

/// `apps/v1` + `StatefulSet` → `apps-v1-statefulset.json`; `v1` + `Service` → `v1-service.json`.
fn file_name(api_version: &str, kind: &str) -> String {
    format!(
        "{}-{}.json",
        api_version.replace('/', "-"),
        kind.to_ascii_lowercase()
    )
}

fn pretty(value: &Value) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("a JSON value serializes");
    s.push('\n');
    s
}

fn generate(out: &Path) -> Result<(), String> {
    let version = compiled_version();
    let dir = out.join(format!("v{version}"));
    if dir.exists() {
        // Only our own files: every `*.json` here was written by a previous run.
        for entry in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
            if path.extension().is_some_and(|e| e == "json") {
                std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut index: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let kinds = kinds();
    for k in &kinds {
        let schema = strict::make_strict(k.schema.clone(), k.api_version, k.kind)
            .map_err(|e| format!("{} {}: {e}", k.api_version, k.kind))?;
        let path = dir.join(file_name(k.api_version, k.kind));
        std::fs::write(&path, pretty(&schema)).map_err(|e| format!("{}: {e}", path.display()))?;
        index.entry(k.kind).or_default().push(k.api_version);
    }
    for versions in index.values_mut() {
        versions.sort_unstable();
    }
    let index = serde_json::json!({
        "kubernetesVersion": version,
        "generator": "cargo run -p xtask -- gen-schemas (k8s-openapi 0.29)",
        "kinds": index,
    });
    let path = dir.join("index.json");
    std::fs::write(&path, pretty(&index)).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("xtask: wrote {} schemas to {}", kinds.len(), dir.display());
    Ok(())
}

/// Writes the `include_str!` table of every `schemas/v1.XX/*.json`.
fn write_embedded(schemas: &Path, target: &Path) -> Result<(), String> {
    let mut s = String::from(
        "// @generated by `cargo run -p xtask -- gen-schemas --all`; do not edit.\n\
         //! Every schema of every supported Kubernetes version, compiled into mclint.\n\n\
         /// `(version, file name, JSON text)`, sorted by version then file.\n\
         #[rustfmt::skip]\n\
         pub static FILES: &[(&str, &str, &str)] = &[\n",
    );
    for v in VERSIONS {
        let dir = schemas.join(format!("v{v}"));
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        names.sort();
        for n in names {
            s.push_str(&format!(
                "    (\"{v}\", \"{n}\", include_str!(\"../../schemas/v{v}/{n}\")),\n"
            ));
        }
    }
    s.push_str("];\n");
    std::fs::write(target, s).map_err(|e| format!("{}: {e}", target.display()))
}
