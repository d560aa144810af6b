//! Built-in API versions Kubernetes stopped serving, from
//! `schemas/removed-apis.json` (kept by hand; its sources are named in it and
//! in `docs/removed-apis.md`).

use std::sync::OnceLock;

use serde::Deserialize;

/// One removed apiVersion of one kind.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Removal {
    pub api_version: String,
    pub kind: String,
    /// The first release that no longer serves it, `1.25`.
    pub removed_in: String,
    /// The apiVersion to use instead; `None` when the kind has no successor.
    pub replacement: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Deserialize)]
struct Table {
    removed: Vec<Removal>,
}

/// The JSON text of the table, compiled in.
pub const TABLE: &str = include_str!("../../schemas/removed-apis.json");

/// Every removal, in table order.
pub fn all() -> &'static [Removal] {
    static ALL: OnceLock<Vec<Removal>> = OnceLock::new();
    ALL.get_or_init(|| {
        serde_json::from_str::<Table>(TABLE)
            .map(|t| t.removed)
            .unwrap_or_else(|e| panic!("schemas/removed-apis.json is malformed: {e}"))
    })
}

/// Is `api_version` a prerelease one (`v1beta1`, `v2alpha1`)? Kubernetes
/// removes only those: a GA version is never removed within a major
/// release (its deprecation policy, rule 4a), and the table lists none (a
/// test holds it to that). Most objects are GA, and parsing the table is
/// most of the work of looking one up.
fn prerelease(api_version: &str) -> bool {
    let version = api_version.rsplit('/').next().unwrap_or(api_version);
    version.contains("alpha") || version.contains("beta")
}

fn key(v: &str) -> (u32, u32) {
    let mut it = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

/// The removal that makes `api_version` `kind` unavailable in Kubernetes
/// `version`, if any.
pub fn removed(api_version: &str, kind: &str, version: &str) -> Option<&'static Removal> {
    if !prerelease(api_version) {
        return None;
    }
    all().iter().find(|r| {
        r.api_version == api_version && r.kind == kind && key(&r.removed_in) <= key(version)
    })
}

/// A kind that no longer exists at all in `version` (every apiVersion of it
/// removed, no replacement), e.g. PodSecurityPolicy from 1.25: its last removal.
pub fn kind_gone(kind: &str, version: &str) -> Option<&'static Removal> {
    all()
        .iter()
        .rev()
        .find(|r| r.kind == kind && r.replacement.is_none() && key(&r.removed_in) <= key(version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_names_real_releases() {
        assert!(all().len() >= 40);
        for r in all() {
            assert!(key(&r.removed_in) >= (1, 16), "{r:?}");
            assert!(r.api_version.contains('/'), "{r:?}");
            if let Some(rep) = &r.replacement {
                assert_ne!(rep, &r.api_version, "{r:?}");
            } else {
                assert!(
                    r.note.is_some(),
                    "a removal without successor says why: {r:?}"
                );
            }
        }
    }

    #[test]
    fn the_table_removes_only_prerelease_versions() {
        for r in all() {
            assert!(prerelease(&r.api_version), "{r:?}");
        }
        assert!(
            prerelease("policy/v1beta1") && prerelease("flowcontrol.apiserver.k8s.io/v1alpha1")
        );
        assert!(!prerelease("policy/v1") && !prerelease("v1") && !prerelease("apps/v1"));
        assert!(removed("apps/v1", "Deployment", "1.37").is_none());
    }

    #[test]
    fn removal_applies_from_its_release_on() {
        assert!(removed("batch/v1beta1", "CronJob", "1.24").is_none());
        let r = removed("batch/v1beta1", "CronJob", "1.25").unwrap();
        assert_eq!(r.replacement.as_deref(), Some("batch/v1"));
        assert!(kind_gone("PodSecurityPolicy", "1.29").is_some());
        assert!(kind_gone("Deployment", "1.37").is_none());
    }
}
