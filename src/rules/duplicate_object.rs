use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::manifest::Object;

pub const RULE: Rule = Rule {
    id: "duplicate-object",
    severity: Severity::Error,
    summary: "Two objects have the same kind, namespace and name.",
    docs: r#"## What it checks
That no two objects share kind, namespace and name (objects without a
namespace count as `default`, where `kubectl apply` puts them).

## Why it matters
The second silently overwrites the first on apply; Helm refuses the release.

## Example
Two templates both rendering `ConfigMap cache/memcached-proxy`.

## Fix
Rename one of them, or render only one.
"#,
    fix: "Give each object its own name, or render only one of them.",
    check,
    scope: Scope::Set,
};

/// What makes two objects the same one to the API server: API group (not
/// version), kind, namespace and name.
fn identity<'o>(obj: &'o Object) -> (&'o str, &'o str, &'o str, &'o str) {
    let group = obj.api_version.split('/').rev().nth(1).unwrap_or("");
    (group, &obj.kind, obj.effective_namespace(), &obj.name)
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    // Every named object's identity as a keyed 64-bit hash, sorted: objects
    // of one identity are then next to each other, in input order (16 bytes
    // an object, where a map held a copy of each key).
    let hasher = foldhash::quality::RandomState::default();
    let mut hashed: Vec<(u64, usize)> = ctx
        .objects
        .iter()
        .enumerate()
        .filter(|(_, o)| !o.name.is_empty())
        .map(|(i, o)| (std::hash::BuildHasher::hash_one(&hasher, identity(o)), i))
        .collect();
    hashed.sort_unstable();
    // (object, the first of its identity), in input order.
    let mut twice: Vec<(usize, usize)> = Vec::new();
    for run in hashed.chunk_by(|a, b| a.0 == b.0) {
        for (k, &(_, i)) in run.iter().enumerate().skip(1) {
            // Equal hashes of different identities are told apart here.
            let key = identity(&ctx.objects[i]);
            if let Some(&(_, j)) = run[..k]
                .iter()
                .find(|&&(_, j)| identity(&ctx.objects[j]) == key)
            {
                twice.push((i, j));
            }
        }
    }
    twice.sort_unstable();
    for (i, j) in twice {
        let (obj, other) = (&ctx.objects[i], &ctx.objects[j]);
        out.push(RULE.on(
            obj,
            "/metadata/name",
            format!(
                "{} is defined twice; the first is in {} line {}",
                obj.reference(),
                other.doc.source.as_deref().unwrap_or(&other.doc.file),
                other.doc.line
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(text: &str) -> Vec<Finding> {
        let input = crate::manifest::Input {
            name: "t.yaml".into(),
            kind: crate::manifest::InputKind::Yaml,
            text: text.into(),
        };
        let docs = crate::manifest::parse_stream(&input);
        let rendering =
            crate::rendering::Rendering::new(&docs, &[], crate::rendering::Settings::default());
        let mut out = Vec::new();
        check(&Context::new(rendering), &mut out);
        out
    }

    #[test]
    fn each_repeat_names_the_first_of_its_identity_in_input_order() {
        let out = findings(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n---\n\
             apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n\
             apiVersion: apps/v1beta2\nkind: Deployment\nmetadata: {name: a, namespace: default}\n---\n\
             apiVersion: example.com/v1\nkind: Deployment\nmetadata: {name: a}\n---\n\
             apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n\
             apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: other}\n---\n\
             apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n",
        );
        let shown: Vec<(Option<usize>, &str)> = out
            .iter()
            .map(|f| (f.location.document, &f.message[f.message.len() - 6..]))
            .collect();
        assert_eq!(
            shown,
            [
                (Some(2), "line 1"),
                (Some(4), "line 5"),
                (Some(6), "line 1")
            ],
            "{out:#?}"
        );
    }
}
