//! The rule table. Each rule lives in its own file with its docs beside its
//! code; this file lists them and holds what every rule shares.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::sync::Arc;

use crate::finding::{Finding, Location, Severity};
use crate::manifest::{Document, Object};
use crate::memcached::cmdline::MemcachedContainer;
use crate::memcached::resources::ContainerMemory;
use crate::proxy::Proxies;
use crate::rendering::Rendering;
use crate::schema::{SchemaError, SchemaSet};

mod annotation_invalid;
mod api_version_missing;
mod api_version_not_served;
mod container_name_invalid;
mod cronjob_schedule_invalid;
mod duplicate_object;
mod env_name_invalid;
mod job_spec_invalid;
mod label_invalid;
mod not_an_object;
mod object_name_invalid;
mod pod_name_duplicate;
mod port_name_invalid;
mod port_number_invalid;
mod probe_handler_invalid;
mod resources_invalid;
mod schema_violation;
mod suppression_unknown_rule;
mod unknown_kind;
mod yaml_duplicate_key;
mod yaml_flow_indentation;
mod yaml_syntax;
// Cross-object rules and what they share.
mod configmap_key_missing;
mod configmap_not_rendered;
mod duplicate_container_port;
mod named_port_undeclared;
mod network_policy_blocks_backend;
mod network_policy_blocks_client;
mod network_policy_cache_open;
mod pdb_selects_no_pods;
mod port_number_undeclared;
mod selector_invalid;
mod selector_mismatches_template;
mod service_selects_no_pods;
mod statefulset_service_misses_pods;
mod statefulset_service_missing;
mod volume_mount_without_volume;
// memory (memcached memory model)
mod memcached_port_conflict;
mod memcached_port_unserved;
mod memcached_tls_incomplete;
mod memory_cache_size_default;
mod memory_connection_buffers_unbounded;
mod memory_estimate_unknown;
mod memory_limit_below_peak;
mod memory_limit_missing;
mod memory_limit_oversized;
mod memory_option_repeated;
mod memory_pod_limit_below_peak;
mod memory_request_above_limit;
mod memory_request_below_cache;
mod memory_request_missing;
mod memory_unit_slip;
// Proxy (routelib) rules.
mod migration_finished;
mod migration_old_pods_missing;
mod migration_placement_diverges;
pub mod proxies;
mod proxy_backend_external;
mod proxy_backend_malformed;
mod proxy_backend_not_a_pod;
mod proxy_config_missing;
mod proxy_duplicate_backend;
mod proxy_empty_backends;
mod proxy_image_version;
mod proxy_localhost_backend;
mod proxy_lua_error;
mod proxy_map_backends;
mod proxy_option_invalid;
mod proxy_pool_pods;
mod proxy_refused;
mod proxy_reserved_name;
mod proxy_ring_unfilled;
mod proxy_same_seed;
mod proxy_set_name;
mod proxy_tags_filter_repeat;
mod proxy_tls_not_compiled;
mod proxy_unknown_key;
mod proxy_unused_pool;
mod proxy_zone_mismatch;
mod proxy_zone_uncovered;
mod route_allasync;
mod route_allfastest_miss;
mod route_allsync_unordered;
mod route_argument_type;
mod route_child_kind;
mod route_failover_count_one;
mod route_failover_global_zone;
mod route_missing_argument;
mod route_ratelim_limited_error;
mod route_ttl_shared_request;
mod route_unhandled_command;
mod route_unknown_argument;
mod route_unknown_command;
mod route_unknown_handler;
mod route_unknown_pool;
mod route_zfailover_stats;
mod route_zfailover_without_zone;
mod route_zoned_set_without_zone;
pub mod suppression;
pub mod xref;

/// One check over the whole object set.
pub struct Rule {
    /// Kebab-case id naming the problem.
    pub id: &'static str,
    pub severity: Severity,
    /// One line: what is wrong when this rule fires.
    pub summary: &'static str,
    /// Markdown with the headings "What it checks", "Why it matters", "Example", "Fix".
    pub docs: &'static str,
    /// One sentence telling how to fix it, ending with a period.
    pub fix: &'static str,
    pub check: fn(&Context, &mut Vec<Finding>),
    /// What the rule needs to see at once (see [`Scope`]).
    pub scope: Scope,
}

/// What a rule looks at, and so how `mclint check` can run it without
/// holding the whole rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One document (or object) at a time: its findings do not depend on any
    /// other document. Run over batches of documents, each let go when done.
    Document,
    /// Relations between objects (selectors, references, proxy configs and
    /// their backends): run once, over what [`crate::residue`] keeps of every
    /// object.
    Set,
    /// A rule with a part of each kind: run in both passes, each time doing
    /// the part of that pass ([`Context::pass`]).
    Both,
}

impl Scope {
    /// Does a rule of this scope run in the pass over `pass` scope?
    pub fn runs_in(self, pass: Scope) -> bool {
        self == pass || self == Scope::Both
    }
}

impl Rule {
    /// A finding of this rule about `object` at the field `path` (a JSON pointer).
    pub fn on(&self, object: &Object, path: &str, message: impl Into<String>) -> Finding {
        let mut f = Finding::new(self.id, self.severity, message);
        f.object = Some(object.reference());
        f.location = object.location(path);
        f.help = Some(self.fix.into());
        f
    }

    /// A finding about a document that is not (or not yet) an object.
    pub fn on_document(&self, doc: &Document, path: &str, message: impl Into<String>) -> Finding {
        let mut f = Finding::new(self.id, self.severity, message);
        f.location = doc.location(path);
        f.help = Some(self.fix.into());
        f
    }

    /// A finding about a file as a whole (a standalone proxy config, say).
    pub fn on_file(&self, file: &str, line: Option<u32>, message: impl Into<String>) -> Finding {
        let mut f = Finding::new(self.id, self.severity, message);
        f.location = Location {
            file: file.into(),
            line,
            ..Location::default()
        };
        f.help = Some(self.fix.into());
        f
    }
}

/// Everything a rule may look at: the rendering, and the domain models built
/// from it on first use.
pub struct Context<'a> {
    pub rendering: Rendering<'a>,
    /// The pass being run: [`Scope::Document`] over a batch of documents, or
    /// [`Scope::Set`] over every object (as cut down by [`crate::residue`]).
    pub pass: Scope,
    /// Proxy configs, loaded once on first use ([`Context::proxies`]).
    proxies: OnceCell<Proxies>,
    /// The schema set, loaded once on first use ([`Context::schemas`]).
    schemas: OnceCell<Result<Arc<SchemaSet>, SchemaError>>,
    /// What cross-object rules look objects up by, built once on first use
    /// ([`xref::index`]).
    pub index: OnceCell<xref::Index>,
    /// The memcached containers of each object with their memory, analysed
    /// once on first use ([`Context::memory`]).
    memory: OnceCell<Vec<Vec<ContainerMemory<'a>>>>,
    /// The findings of `named-port-undeclared` and `port-number-undeclared`
    /// in this pass, which one walk over probes and Services finds together
    /// ([`Context::port_findings`]).
    port_findings: OnceCell<PortFindings>,
    /// The StatefulSets and Services that backend hosts name, indexed once
    /// on first use ([`Context::hosts`]).
    hosts: OnceCell<crate::proxy::manifest::Hosts>,
}

/// The memcached containers of an object (see [`Context::memcached_of`]).
pub enum MemcachedOf<'c, 'a> {
    Memory(&'c [ContainerMemory<'a>]),
    Owned(Vec<MemcachedContainer<'a>>),
}

impl<'a> MemcachedOf<'_, 'a> {
    pub fn iter(&self) -> impl Iterator<Item = &MemcachedContainer<'a>> {
        let (memory, bare): (&[ContainerMemory<'a>], &[MemcachedContainer<'a>]) = match self {
            MemcachedOf::Memory(m) => (m, &[]),
            MemcachedOf::Owned(o) => (&[], o),
        };
        memory.iter().map(|m| &m.mc).chain(bare)
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

/// Findings of the port rules: by name, by number.
#[derive(Debug, Default)]
pub(crate) struct PortFindings {
    pub named: Vec<Finding>,
    pub numbered: Vec<Finding>,
}

impl<'a> std::ops::Deref for Context<'a> {
    type Target = Rendering<'a>;

    fn deref(&self) -> &Rendering<'a> {
        &self.rendering
    }
}

impl<'a> Context<'a> {
    pub fn new(rendering: Rendering<'a>) -> Context<'a> {
        Context {
            rendering,
            pass: Scope::Set,
            proxies: OnceCell::new(),
            schemas: OnceCell::new(),
            index: OnceCell::new(),
            memory: OnceCell::new(),
            port_findings: OnceCell::new(),
            hosts: OnceCell::new(),
        }
    }

    /// A context given the outcome of loading the schema set once already
    /// (by an earlier batch of the same run), error included.
    pub fn with_loaded_schemas(
        rendering: Rendering<'a>,
        schemas: Result<Arc<SchemaSet>, SchemaError>,
    ) -> Context<'a> {
        let ctx = Context::new(rendering);
        let _ = ctx.schemas.set(schemas);
        ctx
    }

    /// The schema set, if a rule loaded it.
    pub fn loaded_schemas(&self) -> Option<Result<Arc<SchemaSet>, SchemaError>> {
        self.schemas.get().cloned()
    }

    /// Every proxy of the rendering and every config, loaded once.
    pub fn proxies(&self) -> &Proxies {
        self.proxies
            .get_or_init(|| crate::proxy::load_all(&self.rendering))
    }

    /// The StatefulSets and Services of this pass's objects by namespace
    /// and name, for resolving backend hosts.
    pub fn hosts(&self) -> &crate::proxy::manifest::Hosts {
        self.hosts
            .get_or_init(|| crate::proxy::manifest::Hosts::of(&self.rendering.objects))
    }

    /// The memcached containers of each object (in the order of `objects`),
    /// with their resources and estimate: command lines and env maps are read
    /// once per run, not once per memory rule.
    pub fn memory(&self) -> &[Vec<ContainerMemory<'a>>] {
        self.memory.get_or_init(|| {
            self.rendering
                .objects
                .iter()
                .map(crate::memcached::resources::analyze)
                .collect()
        })
    }

    /// What the containers of each of `docs` start (aligned with them), as
    /// the memory rules read them in this pass (see
    /// [`crate::manifest::Document::memcached`]): `None` for all when no
    /// rule read every command line, and for a document that is not an
    /// object. `docs` are the documents this context was made of.
    pub fn memcached_facts(
        &self,
        docs: &[Document],
    ) -> Option<Vec<Option<crate::manifest::Memcached>>> {
        let memory = self.memory.get()?;
        let mut facts = vec![None; docs.len()];
        // Objects come in the order of their documents.
        let mut at = 0;
        for (obj, containers) in self.rendering.objects.iter().zip(memory) {
            while at < docs.len() && !std::ptr::eq(obj.doc, &docs[at]) {
                at += 1;
            }
            let fact: &mut crate::manifest::Memcached = facts.get_mut(at)?.get_or_insert_default();
            for c in containers {
                fact.runs = true;
                fact.proxy |= c.mc.role == crate::memcached::cmdline::Role::Proxy;
                fact.tls |= memcached_tls_incomplete::concerns(&c.mc.args);
            }
        }
        Some(facts)
    }

    /// The memcached containers of `obj` with their memory (see
    /// [`Context::memory`]): read once per object for every rule. An object
    /// that is not one of the context's own is analysed on the spot.
    pub fn memory_of<'c>(&'c self, obj: &Object<'a>) -> Cow<'c, [ContainerMemory<'a>]> {
        match self.position(obj) {
            Some(i) => Cow::Borrowed(&self.memory()[i]),
            None => Cow::Owned(crate::memcached::resources::analyze(obj)),
        }
    }

    /// The memcached containers of `obj`: through [`Context::memory`] in
    /// the pass over documents (the memory rules need it there anyway),
    /// parsed on the spot in the pass over the whole set. No rule of that
    /// pass reads resources or estimates, and holding every object's parsed
    /// command lines to the end of the pass cost a large stream more (26 MiB
    /// at 100,000 documents) than parsing them again costs time (1.5 % more
    /// instructions at 10,000). An object that is not one of the context's
    /// own is parsed on the spot too.
    pub fn memcached_of<'c>(&'c self, obj: &Object<'a>) -> MemcachedOf<'c, 'a> {
        match self.position(obj) {
            Some(i) if self.pass != Scope::Set => MemcachedOf::Memory(&self.memory()[i]),
            // Known to run no memcached (see [`Context::memcached_facts`]).
            _ if obj.doc.memcached().is_some_and(|m| !m.runs) => MemcachedOf::Owned(Vec::new()),
            _ => MemcachedOf::Owned(crate::memcached::cmdline::memcached_containers(obj)),
        }
    }

    /// The position of `obj` in the rendering's objects, if it is one of them
    /// (the same object, not an equal one).
    fn position(&self, obj: &Object<'a>) -> Option<usize> {
        let i = obj.position as usize;
        self.rendering
            .objects
            .get(i)
            .is_some_and(|o| std::ptr::eq(o, obj))
            .then_some(i)
    }

    /// The port rules' findings of this pass, found once for both.
    pub(crate) fn port_findings(&self) -> &PortFindings {
        self.port_findings.get_or_init(|| {
            let mut found = PortFindings::default();
            for p in named_port_undeclared::port_problems(self) {
                if p.named {
                    found
                        .named
                        .push(named_port_undeclared::RULE.on(p.obj, &p.pointer, p.message));
                } else {
                    found
                        .numbered
                        .push(port_number_undeclared::RULE.on(p.obj, &p.pointer, p.message));
                }
            }
            found
        })
    }

    /// Each object with its memcached containers (see [`Context::memory`]).
    pub fn objects_with_memory(
        &self,
    ) -> impl Iterator<Item = (&Object<'a>, &[ContainerMemory<'a>])> {
        self.rendering
            .objects
            .iter()
            .zip(self.memory().iter().map(Vec::as_slice))
    }

    /// The schema set of the rendering's settings, loaded once.
    pub fn schemas(&self) -> Result<Arc<SchemaSet>, SchemaError> {
        self.schemas
            .get_or_init(|| crate::schema::load(&self.rendering.settings))
            .clone()
    }
}

/// Every rule, in the order `mclint rules` lists them.
pub static RULES: &[&Rule] = &[
    &yaml_syntax::RULE,
    &yaml_duplicate_key::RULE,
    &yaml_flow_indentation::RULE,
    &not_an_object::RULE,
    &duplicate_object::RULE,
    &schema_violation::RULE,
    &api_version_not_served::RULE,
    &api_version_missing::RULE,
    &unknown_kind::RULE,
    &object_name_invalid::RULE,
    &port_name_invalid::RULE,
    &port_number_invalid::RULE,
    &label_invalid::RULE,
    &annotation_invalid::RULE,
    &pod_name_duplicate::RULE,
    &container_name_invalid::RULE,
    &probe_handler_invalid::RULE,
    &resources_invalid::RULE,
    &cronjob_schedule_invalid::RULE,
    &env_name_invalid::RULE,
    &job_spec_invalid::RULE,
    &suppression_unknown_rule::RULE,
    &selector_invalid::RULE,
    &selector_mismatches_template::RULE,
    &service_selects_no_pods::RULE,
    &statefulset_service_missing::RULE,
    &statefulset_service_misses_pods::RULE,
    &named_port_undeclared::RULE,
    &port_number_undeclared::RULE,
    &duplicate_container_port::RULE,
    &memcached_port_unserved::RULE,
    &memcached_tls_incomplete::RULE,
    &memcached_port_conflict::RULE,
    &volume_mount_without_volume::RULE,
    &configmap_key_missing::RULE,
    &configmap_not_rendered::RULE,
    &pdb_selects_no_pods::RULE,
    &memory_limit_below_peak::RULE,
    &memory_unit_slip::RULE,
    &memory_pod_limit_below_peak::RULE,
    &memory_request_above_limit::RULE,
    &memory_request_below_cache::RULE,
    &memory_limit_missing::RULE,
    &memory_request_missing::RULE,
    &memory_connection_buffers_unbounded::RULE,
    &memory_estimate_unknown::RULE,
    &memory_option_repeated::RULE,
    &memory_limit_oversized::RULE,
    &memory_cache_size_default::RULE,
    &proxy_lua_error::RULE,
    &proxy_refused::RULE,
    &proxy_reserved_name::RULE,
    &proxy_set_name::RULE,
    &proxy_backend_malformed::RULE,
    &proxy_empty_backends::RULE,
    &proxy_map_backends::RULE,
    &proxy_duplicate_backend::RULE,
    &proxy_same_seed::RULE,
    &proxy_tags_filter_repeat::RULE,
    &proxy_option_invalid::RULE,
    &proxy_tls_not_compiled::RULE,
    &proxy_ring_unfilled::RULE,
    &proxy_unknown_key::RULE,
    &proxy_unused_pool::RULE,
    &route_unknown_handler::RULE,
    &route_allasync::RULE,
    &route_allfastest_miss::RULE,
    &route_missing_argument::RULE,
    &route_unknown_argument::RULE,
    &route_argument_type::RULE,
    &route_unknown_pool::RULE,
    &route_child_kind::RULE,
    &route_unknown_command::RULE,
    &route_unhandled_command::RULE,
    &route_zfailover_without_zone::RULE,
    &proxy_zone_mismatch::RULE,
    &proxy_zone_uncovered::RULE,
    &migration_finished::RULE,
    &migration_placement_diverges::RULE,
    &migration_old_pods_missing::RULE,
    &route_zfailover_stats::RULE,
    &route_ttl_shared_request::RULE,
    &route_failover_global_zone::RULE,
    &route_zoned_set_without_zone::RULE,
    &route_failover_count_one::RULE,
    &route_allsync_unordered::RULE,
    &route_ratelim_limited_error::RULE,
    &proxy_config_missing::RULE,
    &proxy_backend_not_a_pod::RULE,
    &proxy_backend_external::RULE,
    &proxy_pool_pods::RULE,
    &proxy_localhost_backend::RULE,
    &proxy_image_version::RULE,
    &network_policy_blocks_backend::RULE,
    &network_policy_blocks_client::RULE,
    &network_policy_cache_open::RULE,
];

pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| r.id == id)
}

/// The rule catalogue as Markdown (`mclint rules --format markdown`, kept as `docs/rules.md`).
pub fn markdown() -> String {
    let mut s = String::from(
        "# mclint rules\n\nGenerated by `mclint rules --format markdown`; do not edit by hand.\n\n| rule | severity | summary |\n|---|---|---|\n",
    );
    for r in RULES {
        s.push_str(&format!(
            "| [`{}`](#{}) | {} | {} |\n",
            r.id, r.id, r.severity, r.summary
        ));
    }
    for r in RULES {
        s.push_str(&format!(
            "\n## {}\n\nDefault severity: **{}**. {}\n\n",
            r.id, r.severity, r.summary
        ));
        s.push_str(
            &r.docs
                .trim_end()
                .replace("\n## ", "\n### ")
                .replacen("## ", "### ", 1),
        );
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memcached_facts_say_what_each_document_starts() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: cache}\nspec:\n  \
            template:\n    spec:\n      containers:\n      - {name: mc, image: 'memcached:1.6.38', args: ['-m', '64']}\n\
            ---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: proxy}\nspec:\n  \
            template:\n    spec:\n      containers:\n      - {name: web, image: nginx}\n      \
            - {name: p, image: 'memcached:1.6.38', args: ['-o', 'proxy_config=routelib,proxy_arg=/c/config.lua']}\n\
            ---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: tls}\nspec:\n  \
            template:\n    spec:\n      containers:\n      - {name: mc, image: 'memcached:1.6.38', command: [sh, -c, 'exec memcached -o ssl_key=/t/k']}\n\
            ---\napiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - {name: web, image: nginx}\n\
            ---\n- not an object\n";
        let input = crate::manifest::Input {
            name: "t.yaml".into(),
            kind: crate::manifest::InputKind::Yaml,
            text: text.into(),
        };
        let docs = crate::manifest::parse_stream(&input);
        let ctx = Context::new(Rendering::new(
            &docs,
            &[],
            crate::rendering::Settings::default(),
        ));
        // Not known before a rule read every command line.
        assert_eq!(ctx.memcached_facts(&docs), None);
        ctx.memory();
        let fact = |runs, proxy, tls| Some(crate::manifest::Memcached { runs, proxy, tls });
        assert_eq!(
            ctx.memcached_facts(&docs).unwrap(),
            [
                fact(true, false, false),
                fact(true, true, false),
                fact(true, false, true),
                fact(false, false, false),
                None
            ]
        );
    }

    #[test]
    fn ids_are_unique_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.id), "duplicate rule id {}", r.id);
            assert!(
                r.id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{} is not kebab-case",
                r.id
            );
        }
    }

    #[test]
    fn every_rule_is_documented() {
        for r in RULES {
            for heading in [
                "## What it checks",
                "## Why it matters",
                "## Example",
                "## Fix",
            ] {
                assert!(r.docs.contains(heading), "{} docs lack {heading}", r.id);
            }
            assert!(!r.summary.is_empty(), "{} has no summary", r.id);
            assert!(r.fix.ends_with('.'), "{} fix must end with a period", r.id);
        }
    }

    #[test]
    fn every_rule_has_fixtures() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        for r in RULES {
            let dir = root.join(r.id);
            let has = |prefix: &str| {
                std::fs::read_dir(&dir)
                    .map(|rd| {
                        rd.filter_map(Result::ok)
                            .any(|e| e.file_name().to_string_lossy().starts_with(prefix))
                    })
                    .unwrap_or(false)
            };
            assert!(
                has("fail"),
                "{} has no tests/fixtures/{}/fail* fixture",
                r.id,
                r.id
            );
            assert!(
                has("pass"),
                "{} has no tests/fixtures/{}/pass* fixture",
                r.id,
                r.id
            );
        }
    }
}
