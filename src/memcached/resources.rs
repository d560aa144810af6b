//! memcached containers next to their memory requests and limits: what the
//! memory rules look at.

use crate::json::Value;

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
    /// The field `kind` (`requests` or `limits`) of the `resources` of `json`, found at `base`.
    pub fn read(base: &str, json: &Value, kind: &str) -> MemoryField {
        let pointer = format!("{base}/resources/{kind}/memory");
        let value = json
            .get("resources")
            .and_then(|r| r.get(kind))
            .and_then(|k| k.get("memory"));
        MemoryField {
            pointer,
            raw: value.map(|v| match v {
                Value::String(s) => s.to_string(),
                other => other.to_string(),
            }),
            bytes: value.map(bytes_of),
        }
    }

    /// The bytes of the field `kind` of the `resources` of `json`, when set
    /// and valid: [`MemoryField::read`]'s value, without its texts.
    pub fn bytes_at(json: &Value, kind: &str) -> Option<u64> {
        let value = json.get("resources")?.get(kind)?.get("memory")?;
        bytes_of(value).ok()
    }

    /// The value in bytes when set and valid.
    pub fn value(&self) -> Option<u64> {
        self.bytes.as_ref().and_then(|b| b.as_ref().ok().copied())
    }

    pub fn is_set(&self) -> bool {
        self.raw.is_some()
    }

    /// The quantity read with the binary unit next to the decimal one it was
    /// written with (`256M` as `256Mi`, `1.5G` as `1.5Gi`), or, for a plain
    /// whole number below 1 MiB, as that many MiB (the unit of `-m`): what the
    /// number means to someone who thinks in memcached's MiB. Returns the bytes
    /// and the spelling; `None` for binary units, exponents, `m` and larger
    /// plain numbers (bytes written out in full).
    pub fn binary_reading(&self) -> Option<(u64, String)> {
        let raw = self.raw.as_deref()?;
        let suffix_at = raw
            .find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(raw.len());
        let (number, suffix) = raw.split_at(suffix_at);
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return None;
        }
        let binary = match suffix {
            "k" => format!("{number}Ki"),
            "M" | "G" | "T" | "P" | "E" => format!("{number}{suffix}i"),
            "" => {
                let n: u64 = number.parse().ok()?;
                if n >= 1 << 20 {
                    return None;
                }
                format!("{n}Mi")
            }
            _ => return None,
        };
        let bytes = super::quantity::Quantity::parse(&binary)
            .ok()?
            .to_bytes_ceil()?;
        Some((bytes, binary))
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
/// `objects` are each object with its containers as [`analyze`] gives them.
pub fn estimated_with_limit<'o, 'a: 'o>(
    objects: impl Iterator<Item = (&'o Object<'a>, &'o [ContainerMemory<'a>])>,
) -> impl Iterator<Item = (&'o Object<'a>, &'o ContainerMemory<'a>, MemoryEstimate, u64)> {
    objects.flat_map(|(obj, list)| {
        list.iter().filter_map(move |cm| {
            let (Some(e), Some(limit)) = (cm.estimate, cm.limit.value()) else {
                return None;
            };
            Some((obj, cm, e, limit))
        })
    })
}

/// The memcached containers of the `objects` that set no pod-level
/// `limits.memory`, each with its object.
/// `objects` are each object with its containers as [`analyze`] gives them.
pub fn without_pod_limit<'o, 'a: 'o>(
    objects: impl Iterator<Item = (&'o Object<'a>, &'o [ContainerMemory<'a>])>,
) -> impl Iterator<Item = (&'o Object<'a>, &'o ContainerMemory<'a>)> {
    objects
        .filter(|(obj, _)| pod_limit(obj).is_none())
        .flat_map(|(obj, list)| list.iter().map(move |cm| (obj, cm)))
}

/// Every memcached container of the object with its resources.
pub fn analyze<'a>(obj: &Object<'a>) -> Vec<ContainerMemory<'a>> {
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
            let at = mc.container.pointer();
            let request = MemoryField::read(&at, mc.container.json, "requests");
            let limit = MemoryField::read(&at, mc.container.json, "limits");
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

    #[test]
    fn binary_readings() {
        let f = |raw: &str| MemoryField {
            pointer: String::new(),
            raw: Some(raw.into()),
            bytes: None,
        };
        let mib = 1u64 << 20;
        assert_eq!(
            f("256M").binary_reading(),
            Some((256 * mib, "256Mi".into()))
        );
        assert_eq!(
            f("1.5G").binary_reading(),
            Some((1536 * mib, "1.5Gi".into()))
        );
        assert_eq!(
            f("512k").binary_reading(),
            Some((512 * 1024, "512Ki".into()))
        );
        assert_eq!(
            f("1024").binary_reading(),
            Some((1024 * mib, "1024Mi".into()))
        );
        // Bytes written out in full, binary units, exponents and millis: no other reading.
        assert_eq!(f("268435456").binary_reading(), None);
        assert_eq!(f("256Mi").binary_reading(), None);
        assert_eq!(f("2.5e8").binary_reading(), None);
        assert_eq!(f("1e9").binary_reading(), None);
        assert_eq!(f("100m").binary_reading(), None);
        assert_eq!(f("-256M").binary_reading(), None);
        assert_eq!(f("0.5").binary_reading(), None);
    }
}
