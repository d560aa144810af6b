//! Proxies in rendered manifests: containers running memcached with
//! `-o proxy_config=routelib[:LIB...],proxy_arg=PATH`, their config followed
//! through `volumeMounts` (a `subPath` file or a whole-directory mount, with or
//! without `items`) to a ConfigMap key.
//!
//! The command line is read by `crate::memcached::cmdline` (shared with the
//! memory model): `-o` may be repeated or comma-separated, `--extended=` works.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::json::Value;

use super::lines::{Keyed, keyed_state};
use super::{EnvSource, Library, Limits, Opened, ProxyConfig};
use crate::finding::Location;
use crate::manifest::Object;
use crate::memcached::cmdline::{self, EnvValue, MemcachedArgs, MemcachedContainer, Role};

/// A file a proxy reads, found in a ConfigMap.
#[derive(Debug, Clone)]
pub struct Mounted {
    /// The path inside the container.
    pub path: String,
    /// Index into `Context::objects` of the ConfigMap.
    pub configmap: usize,
    pub key: String,
    pub text: String,
    /// Rendered line of the file's first line (for a block scalar), else of the key.
    pub first_line: u32,
    /// The file's lines start on their own lines in the rendered YAML.
    pub block: bool,
}

impl Mounted {
    /// The rendered line of line `n` of the file.
    pub fn rendered_line(&self, n: u32) -> u32 {
        if self.block {
            self.first_line + n.saturating_sub(1)
        } else {
            self.first_line
        }
    }
}

/// A proxy container found in the manifests.
#[derive(Debug, Clone)]
pub struct FoundProxy {
    /// Index into `Context::objects` of the workload.
    pub object: usize,
    pub container_name: String,
    /// JSON pointer to the container.
    pub container_pointer: String,
    pub image: Option<String>,
    pub args: MemcachedArgs,
    /// JSON pointer to the `-o` element that names the config.
    pub arg_pointer: String,
    pub proxy_config: String,
    pub proxy_arg: Option<String>,
    /// The config, or why it cannot be read (a message naming file, object and field).
    pub config: Result<Mounted, MountError>,
    /// Libraries besides routelib, in the order the proxy loads them.
    pub libs: Vec<Result<Mounted, MountError>>,
    pub env: BTreeMap<String, String>,
}

impl FoundProxy {
    pub fn name(&self, objects: &[Object]) -> String {
        format!(
            "{} container {}",
            objects[self.object].reference(),
            self.container_name
        )
    }

    /// Runs the config (with its libraries and the container's env) and builds the model.
    pub fn load(&self, objects: &[Object]) -> Option<ProxyConfig> {
        let cfg = self.config.as_ref().ok()?;
        let libs: Vec<Library> = self
            .libs
            .iter()
            .filter_map(|l| l.as_ref().ok())
            .map(|m| Library {
                name: m.path.clone(),
                text: m.text.clone(),
            })
            .collect();
        let opener = self.opener(objects);
        Some(super::load_with_files(
            &cfg.path,
            &cfg.text,
            &libs,
            &EnvSource::Known(self.env.clone()),
            Limits::default(),
            &opener,
        ))
    }

    /// What the config's `dofile`/`loadfile` can open: a file mounted into
    /// this container from a ConfigMap, found as the config itself is; a
    /// relative path resolves against the container's `workingDir`.
    pub fn opener<'o>(
        &'o self,
        objects: &'o [Object],
    ) -> impl Fn(&str) -> Result<Opened, String> + 'o {
        let obj = &objects[self.object];
        let who = format!("{} container {}", obj.reference(), self.container_name);
        let mc = cmdline::memcached_containers(obj)
            .into_iter()
            .find(|m| m.container.pointer() == self.container_pointer);
        move |path: &str| {
            let Some(mc) = &mc else {
                return Err(format!("{who}: the container is gone from the manifests"));
            };
            let full = if path.starts_with('/') {
                path.to_string()
            } else {
                match mc.container.json.get("workingDir").and_then(Value::as_str) {
                    Some(wd) if wd.starts_with('/') => format!("{wd}/{path}"),
                    _ => {
                        return Err(format!(
                            "{who}: a relative path opens against the proxy's working directory, \
                             which the container does not set (workingDir), so mclint cannot tell \
                             which file it is; name the file by its absolute path under a volumeMount"
                        ));
                    }
                }
            };
            let parts = super::files::parts(&full).map_err(|e| format!("{who}: {full}: {e}"))?;
            let norm = format!("/{}", parts.join("/"));
            mount(objects, self.object, mc, &norm)
                .map(|m| Opened {
                    name: norm,
                    text: m.text,
                })
                .map_err(|e| e.to_string())
        }
    }
}

/// Every proxy container of every workload.
pub fn find_proxies(objects: &[Object]) -> Vec<FoundProxy> {
    let mut out = Vec::new();
    for (i, obj) in objects.iter().enumerate() {
        // Known to start no proxy (`mclint check` notes it as it reads
        // every command line for the memory rules): not read again.
        if obj.doc.memcached().is_some_and(|m| !m.proxy) {
            continue;
        }
        for mc in cmdline::memcached_containers(obj) {
            if mc.role != Role::Proxy {
                continue;
            }
            let proxy_config = mc.args.proxy_config.value.clone().unwrap_or_default();
            let proxy_arg = mc.args.proxy_arg.value.clone();
            let env = literal_env(mc.container.json);
            let mut libs = Vec::new();
            let mut parts = proxy_config.split(':');
            let first = parts.next().unwrap_or("");
            if first != "routelib" {
                // Not a routelib proxy: nothing mclint models.
                continue;
            }
            for lib in parts.filter(|p| !p.is_empty()) {
                libs.push(mount(objects, i, &mc, lib));
            }
            let config = match &proxy_arg {
                Some(p) => mount(objects, i, &mc, p),
                None => Err(MountError::NoProxyArg {
                    who: format!("{} container {}", obj.reference(), mc.container.name),
                }),
            };
            let arg_pointer = mc.pointer(mc.args.proxy_arg.from.or(mc.args.proxy_config.from));
            out.push(FoundProxy {
                object: i,
                container_name: mc.container.name.to_string(),
                container_pointer: mc.container.pointer(),
                image: mc.container.image().map(str::to_string),
                args: mc.args.clone(),
                arg_pointer,
                proxy_config,
                proxy_arg,
                config,
                libs,
                env,
            });
        }
    }
    out
}

fn literal_env(container: &Value) -> BTreeMap<String, String> {
    let map = cmdline::EnvMap::of(container);
    let mut out = BTreeMap::new();
    if let Some(list) = container.get("env").and_then(Value::as_array) {
        for e in list {
            if let Some(name) = e.get("name").and_then(Value::as_str)
                && let Some(EnvValue::Literal(v)) = map.get(name)
            {
                out.insert(name.to_string(), v.clone());
            }
        }
    }
    out
}

/// Why a proxy's config (or library) cannot be read from the manifests; each
/// names the workload and container (`who`), the path and the volume.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MountError {
    #[error(
        "{who}: -o proxy_config=routelib without proxy_arg: routelib has no config file to load"
    )]
    NoProxyArg { who: String },
    #[error("{who}: {path} is not under any volumeMount, so the proxy cannot read it")]
    NotMounted { who: String, path: String },
    #[error("{who}: volumeMount `{volume}` (for {path}) names no volume of the pod")]
    NoVolume {
        who: String,
        path: String,
        volume: String,
    },
    #[error("{who}: {path} is the mount point of volume `{volume}` itself, not a file in it")]
    MountPoint {
        who: String,
        path: String,
        volume: String,
    },
    #[error(
        "{who}: {path} comes from volume `{volume}` of type {kind}; mclint reads proxy configs from ConfigMaps only"
    )]
    NotConfigMap {
        who: String,
        path: String,
        volume: String,
        kind: String,
    },
    #[error(
        "{who}: {path} is key `{key}` of ConfigMap {configmap} (volume `{volume}`), which is not in the manifests"
    )]
    ConfigMapMissing {
        who: String,
        path: String,
        key: String,
        configmap: String,
        volume: String,
    },
    #[error(
        "{who}: {path} is key `{key}` of ConfigMap {configmap}, which has no such key (keys: {})",
        if keys.is_empty() { "none".to_string() } else { keys.join(", ") }
    )]
    KeyMissing {
        who: String,
        path: String,
        key: String,
        configmap: String,
        keys: Vec<String>,
    },
    #[error("{who}: {path} is not a key of any ConfigMap projected by volume `{volume}`")]
    NotProjected {
        who: String,
        path: String,
        volume: String,
    },
}

/// Follows `path` through the container's volumeMounts to a ConfigMap key.
fn mount(
    objects: &[Object],
    obj_index: usize,
    mc: &MemcachedContainer,
    path: &str,
) -> Result<Mounted, MountError> {
    let obj = &objects[obj_index];
    let c = &mc.container;
    let who = format!("{} container {}", obj.reference(), c.name);
    // The most specific mount wins, as in the container's mount table.
    let best = crate::k8s::mount_holding(c.json, path);
    let Some((m, rel)) = best else {
        return Err(MountError::NotMounted {
            who,
            path: path.to_string(),
        });
    };
    let vol_name = m.get("name").and_then(Value::as_str).unwrap_or("");
    let sub_path = m
        .get("subPath")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let spec = crate::k8s::pod_spec(obj).map(|(_, s)| s);
    let volume = spec
        .and_then(|s| s.get("volumes"))
        .and_then(Value::as_array)
        .and_then(|vs| {
            vs.iter()
                .find(|v| v.get("name").and_then(Value::as_str) == Some(vol_name))
        });
    let Some(volume) = volume else {
        return Err(MountError::NoVolume {
            who,
            path: path.to_string(),
            volume: vol_name.to_string(),
        });
    };
    // The path inside the volume.
    let inner = match sub_path {
        Some(sp) if rel.is_empty() => sp.to_string(),
        Some(sp) => format!("{sp}/{rel}"),
        None => rel.clone(),
    };
    if inner.is_empty() {
        return Err(MountError::MountPoint {
            who,
            path: path.to_string(),
            volume: vol_name.to_string(),
        });
    }
    // configMap, or projected sources' configMaps.
    let sources: Vec<&Value> = if let Some(cm) = volume.get("configMap") {
        vec![cm]
    } else if let Some(p) = volume.get("projected") {
        p.get("sources")
            .and_then(Value::as_array)
            .map(|s| s.iter().filter_map(|x| x.get("configMap")).collect())
            .unwrap_or_default()
    } else {
        let kind = volume
            .as_object()
            .and_then(|o| o.keys().find(|k| *k != "name").map(|k| k.to_string()))
            .unwrap_or_else(|| "unknown".into());
        return Err(MountError::NotConfigMap {
            who,
            path: path.to_string(),
            volume: vol_name.to_string(),
            kind,
        });
    };
    let ns = obj.effective_namespace();
    for src in sources {
        let Some(cm_name) = src.get("name").and_then(Value::as_str) else {
            continue;
        };
        let key = match src.get("items").and_then(Value::as_array) {
            Some(items) => items.iter().find_map(|it| {
                (it.get("path").and_then(Value::as_str) == Some(inner.as_str())).then(|| {
                    it.get("key")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                })
            }),
            None => (!inner.contains('/')).then(|| inner.clone()),
        };
        let Some(key) = key else { continue };
        let Some(ci) = objects.iter().position(|o| {
            o.kind == "ConfigMap" && o.name == cm_name && o.effective_namespace() == ns
        }) else {
            return Err(MountError::ConfigMapMissing {
                who,
                path: path.to_string(),
                key,
                configmap: format!("{ns}/{cm_name}"),
                volume: vol_name.to_string(),
            });
        };
        let cm = &objects[ci];
        let ptr = format!("/data/{}", key.replace('~', "~0").replace('/', "~1"));
        let Some(text) = cm.json.pointer(&ptr).and_then(Value::as_str) else {
            let keys: Vec<String> = cm
                .json
                .get("data")
                .and_then(Value::as_object)
                .map(|d| d.keys().map(|k| k.to_string()).collect())
                .unwrap_or_default();
            return Err(MountError::KeyMissing {
                who,
                path: path.to_string(),
                key,
                configmap: format!("{ns}/{cm_name}"),
                keys,
            });
        };
        let key_line = cm.location(&ptr).line.unwrap_or(cm.doc.line);
        // A multi-line value is (in rendered charts) a block scalar whose lines
        // start on the line after the key.
        let block = text.contains('\n');
        return Ok(Mounted {
            path: path.to_string(),
            configmap: ci,
            key,
            text: text.to_string(),
            first_line: if block { key_line + 1 } else { key_line },
            block,
        });
    }
    Err(MountError::NotProjected {
        who,
        path: path.to_string(),
        volume: vol_name.to_string(),
    })
}

/// Where a line of a mounted config is in the rendered manifests.
pub fn location(objects: &[Object], m: &Mounted, line: Option<u32>) -> Location {
    let cm = &objects[m.configmap];
    let ptr = format!("/data/{}", m.key.replace('~', "~0").replace('/', "~1"));
    let mut loc = cm.location(&ptr);
    if let Some(n) = line {
        loc.line = Some(m.rendered_line(n));
    }
    loc
}

/// A backend host that names a StatefulSet pod: `<sts>-<ordinal>[.<service>[.<namespace>[.svc[.<domain>]]]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PodHost {
    /// Index into `Context::objects` of the StatefulSet.
    pub statefulset: usize,
    pub ordinal: u64,
    pub service: Option<String>,
    pub namespace: String,
}

/// The StatefulSets and Services of a rendering by namespace and name, and
/// what each namespace holds, built once per rendering: a backend's host is
/// resolved by lookups, not by a scan of every object (which made a rule
/// quadratic in proxies' backends times objects).
#[derive(Debug, Default)]
pub struct Hosts {
    /// Effective namespace → what the rendering has there. A namespace is a
    /// key as soon as one object of any kind lands in it.
    namespaces: Keyed<Namespace>,
}

#[derive(Debug)]
struct Namespace {
    /// StatefulSet name → its first object (input order).
    statefulsets: Keyed<usize>,
    /// Service name → its first object (input order).
    services: Keyed<usize>,
    /// The `spec.serviceName` of every StatefulSet.
    governing: HashSet<String, foldhash::quality::SeedableRandomState>,
}

impl Default for Namespace {
    fn default() -> Self {
        Namespace {
            statefulsets: HashMap::with_hasher(keyed_state()),
            services: HashMap::with_hasher(keyed_state()),
            governing: HashSet::with_hasher(keyed_state()),
        }
    }
}

impl Hosts {
    /// The index of `objects` (positions are indexes into `objects`).
    pub fn of(objects: &[Object]) -> Hosts {
        let mut namespaces: Keyed<Namespace> = HashMap::with_hasher(keyed_state());
        for (i, o) in objects.iter().enumerate() {
            let ns = o.effective_namespace();
            let entry = match namespaces.get_mut(ns) {
                Some(e) => e,
                None => namespaces.entry(ns.to_string()).or_default(),
            };
            match &*o.kind {
                "StatefulSet" => {
                    if !entry.statefulsets.contains_key(&*o.name) {
                        entry.statefulsets.insert(o.name.to_string(), i);
                    }
                    if let Some(s) = o.json.pointer("/spec/serviceName").and_then(Value::as_str)
                        && !entry.governing.contains(s)
                    {
                        entry.governing.insert(s.to_string());
                    }
                }
                "Service" if !entry.services.contains_key(&*o.name) => {
                    entry.services.insert(o.name.to_string(), i);
                }
                _ => {}
            }
        }
        Hosts { namespaces }
    }

    /// The first StatefulSet called `name` in namespace `ns`.
    pub fn statefulset(&self, ns: &str, name: &str) -> Option<usize> {
        self.namespaces.get(ns)?.statefulsets.get(name).copied()
    }

    /// The first Service called `name` in namespace `ns`.
    pub fn service(&self, ns: &str, name: &str) -> Option<usize> {
        self.namespaces.get(ns)?.services.get(name).copied()
    }

    /// The StatefulSet pod `host` names, if its first label is `<sts>-<n>` of a
    /// StatefulSet in the manifests (in the namespace the name resolves in).
    pub fn pod_host(&self, proxy_ns: &str, host: &str) -> Option<PodHost> {
        // The first three labels, as `split('.')` gives them (a byte scan:
        // this runs for every backend).
        fn label(s: &str) -> (&str, Option<&str>) {
            match s.bytes().position(|b| b == b'.') {
                Some(i) => (&s[..i], Some(&s[i + 1..])),
                None => (s, None),
            }
        }
        let (first, rest) = label(host.trim_end_matches('.'));
        let (service, rest) = rest.map(label).unzip();
        let ns = rest.flatten().map(|r| label(r).0);
        let (name, ord) = first.rsplit_once('-')?;
        if ord.is_empty()
            || !ord.bytes().all(|b| b.is_ascii_digit())
            || (ord.len() > 1 && ord.starts_with('0'))
        {
            return None;
        }
        let ordinal: u64 = ord.parse().ok()?;
        let namespace = ns.filter(|n| *n != "svc").unwrap_or(proxy_ns);
        let statefulset = self.statefulset(namespace, name)?;
        Some(PodHost {
            statefulset,
            ordinal,
            service: service.map(str::to_string),
            namespace: namespace.to_string(),
        })
    }

    /// The Service `host` names (`svc`, `svc.ns`, `svc.ns.svc[.domain]`), if in the manifests.
    pub fn service_host(&self, proxy_ns: &str, host: &str) -> Option<usize> {
        let labels: Vec<&str> = host.trim_end_matches('.').split('.').collect();
        let ns = match labels.len() {
            1 => proxy_ns,
            _ if labels.get(2).is_some_and(|l| *l != "svc") => return None,
            _ => labels[1],
        };
        self.service(ns, labels[0])
    }

    /// The host as an [`ExternalHost`], or `None` when it is not a `.svc` name or
    /// the rendering holds what it aims at (a wrong ordinal, service or port there
    /// is an error, not an external cache).
    pub fn external_host(&self, host: &str) -> Option<ExternalHost> {
        let labels: Vec<&str> = host.trim_end_matches('.').split('.').collect();
        let svc_at = labels.iter().position(|l| *l == "svc")?;
        let (pod, service, namespace) = match svc_at {
            3 => (Some(labels[0]), labels[1], labels[2]),
            2 => (None, labels[0], labels[1]),
            _ => return None,
        };
        if [service, namespace].iter().any(|l| l.is_empty()) {
            return None;
        }
        let (statefulset, ordinal) = match pod.and_then(|p| p.rsplit_once('-')) {
            Some((name, ord))
                if !name.is_empty()
                    && !ord.is_empty()
                    && ord.bytes().all(|b| b.is_ascii_digit())
                    && (ord.len() == 1 || !ord.starts_with('0')) =>
            {
                (Some(name.to_string()), ord.parse().ok())
            }
            Some(_) => return None,
            None if pod.is_some() => return None,
            None => (None, None),
        };
        let rendered = self.namespaces.get(namespace);
        if let Some(n) = rendered {
            let aimed_at = n.services.contains_key(service)
                || n.statefulsets.contains_key(service)
                || statefulset
                    .as_deref()
                    .is_some_and(|s| n.statefulsets.contains_key(s))
                || n.governing.contains(service);
            if aimed_at {
                return None;
            }
        }
        Some(ExternalHost {
            namespace: namespace.to_string(),
            statefulset,
            ordinal,
            service: service.to_string(),
            namespace_rendered: rendered.is_some(),
        })
    }
}

/// A cluster DNS name (`<sts>-<n>.<service>.<ns>.svc[.<domain>]` or
/// `<service>.<ns>.svc[.<domain>]`) that names nothing in the manifests and may
/// be outside the rendering: its namespace has no object in the rendering, or
/// (in a rendered namespace) neither the StatefulSet, nor a Service or
/// StatefulSet `serviceName` of the name's service part, is rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalHost {
    pub namespace: String,
    /// The StatefulSet a pod name points at (`memcached` of `memcached-0.…`).
    pub statefulset: Option<String>,
    pub ordinal: Option<u64>,
    pub service: String,
    /// Some object of that namespace is in the rendering.
    pub namespace_rendered: bool,
}

pub fn is_loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "::1" | "[::1]") || host.starts_with("127.")
}

/// `spec.replicas` (default 1).
pub fn replicas(obj: &Object) -> u64 {
    obj.json
        .pointer("/spec/replicas")
        .and_then(Value::as_u64)
        .unwrap_or(1)
}
