//! memcached containers next to their memory requests and limits: what the
//! memory rules look at.

use serde_json::Value;

use super::cmdline::{MemcachedContainer, Role, Setting, memcached_containers};
use super::memory::{MemoryEstimate, estimate};
use super::quantity::{QuantityError, bytes_of};
use crate::k8s;
use crate::manifest::Object;

/// `resources.requests.memory` or `resources.limits.memory`.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryField {
    /// JSON pointer to the field (set or not).
    pub pointer: String,
    /// As written (`256Mi`), when set.
    pub raw: Option<String>,
    /// Bytes, or why the value is not a quantity; `None` when unset.
    pub bytes: Option<Result<u64, QuantityError>>,
}

impl MemoryField {
    fn read(base: &str, json: &Value, kind: &str) -> MemoryField {
        let pointer = format!("{base}/resources/{kind}/memory");
        let value = json.pointer(&format!("/resources/{kind}/memory"));
        MemoryField {
            pointer,
            raw: value.map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
            bytes: value.map(bytes_of),
        }
    }

    /// The value in bytes when set and valid.
    pub fn value(&self) -> Option<u64> {
        self.bytes.as_ref().and_then(|b| b.as_ref().ok().copied())
    }

    pub fn is_set(&self) -> bool {
        self.raw.is_some()
    }

    /// Written with a decimal suffix (`M`, `G`, `k`, ...) or none.
    pub fn is_decimal(&self) -> bool {
        self.raw
            .as_deref()
            .is_some_and(|r| !r.ends_with('i') && !r.contains(['e', 'E']) || r.ends_with('E'))
    }
}

/// One memcached container with its resources and estimate.
#[derive(Debug, Clone)]
pub struct ContainerMemory<'a> {
    pub mc: MemcachedContainer<'a>,
    /// "cache", "proxy" or "local cache" (a cache next to a proxy in one pod).
    pub label: &'static str,
    /// `None` when a value shaping memory is not known from the manifest, or
    /// memcached would refuse to start.
    pub estimate: Option<MemoryEstimate>,
    pub request: MemoryField,
    pub limit: MemoryField,
}

impl ContainerMemory<'_> {
    /// "cache container `memcached` (memcached -m 256 -c 1024 -t 4)".
    pub fn describe(&self) -> String {
        fn shown<T: std::fmt::Display>(s: &Setting<T>) -> String {
            if s.known {
                s.value.to_string()
            } else {
                "?".to_string()
            }
        }
        let a = &self.mc.args;
        let mut flags = match self.mc.role {
            Role::Proxy => format!(
                "proxy, -c {} -t {}",
                shown(&a.conn_limit),
                shown(&a.threads)
            ),
            Role::Cache => format!(
                "-m {} -c {} -t {}",
                shown(&a.memory_mib),
                shown(&a.conn_limit),
                shown(&a.threads)
            ),
        };
        if let Some(l) = a.read_buf_mem_limit.value {
            flags.push_str(&format!(" -o read_buf_mem_limit={}", l >> 20));
        }
        format!(
            "{} container `{}` ({flags})",
            self.label, self.mc.container.name
        )
    }

    /// Memory bound of the container: its own limit.
    pub fn limit_bytes(&self) -> Option<u64> {
        self.limit.value()
    }
}

/// The pod-level `resources.limits.memory` (Kubernetes pod-level resources).
pub fn pod_limit(obj: &Object) -> Option<MemoryField> {
    let (base, spec) = k8s::pod_spec(obj)?;
    let f = MemoryField::read(base, spec, "limits");
    f.is_set().then_some(f)
}

/// The memcached containers of `objects` that have both a memory estimate and
/// their own `limits.memory`: (object, container, estimate, limit in bytes).
pub fn estimated_with_limit<'o, 'a>(
    objects: &'o [Object<'a>],
) -> impl Iterator<Item = (&'o Object<'a>, ContainerMemory<'o>, MemoryEstimate, u64)> {
    objects.iter().flat_map(|obj| {
        analyze(obj).into_iter().filter_map(move |cm| {
            let (Some(e), Some(limit)) = (cm.estimate, cm.limit.value()) else {
                return None;
            };
            Some((obj, cm, e, limit))
        })
    })
}

/// The memcached containers of the `objects` that set no pod-level
/// `limits.memory`, each with its object.
pub fn without_pod_limit<'o, 'a>(
    objects: &'o [Object<'a>],
) -> impl Iterator<Item = (&'o Object<'a>, ContainerMemory<'o>)> {
    objects
        .iter()
        .filter(|obj| pod_limit(obj).is_none())
        .flat_map(|obj| analyze(obj).into_iter().map(move |cm| (obj, cm)))
}

/// Every memcached container of the object with its resources.
pub fn analyze<'a>(obj: &'a Object) -> Vec<ContainerMemory<'a>> {
    let list = memcached_containers(obj);
    let has_proxy = list.iter().any(|c| c.role == Role::Proxy);
    list.into_iter()
        .map(|mc| {
            let label = match mc.role {
                Role::Proxy => "proxy",
                Role::Cache if has_proxy => "local cache",
                Role::Cache => "cache",
            };
            let fatal = mc.args.problems.iter().any(|p| p.fatal);
            let estimate = (!fatal && mc.args.memory_inputs_known()).then(|| estimate(&mc.args));
            let request = MemoryField::read(&mc.container.pointer, mc.container.json, "requests");
            let limit = MemoryField::read(&mc.container.pointer, mc.container.json, "limits");
            ContainerMemory {
                mc,
                label,
                estimate,
                request,
                limit,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_suffixes() {
        let f = |raw: &str| MemoryField {
            pointer: String::new(),
            raw: Some(raw.into()),
            bytes: None,
        };
        assert!(f("256M").is_decimal());
        assert!(f("1G").is_decimal());
        assert!(f("268435456").is_decimal());
        assert!(f("1E").is_decimal());
        assert!(!f("256Mi").is_decimal());
        assert!(!f("2.5e8").is_decimal());
    }
}
