//! The `mclint.io/ignore` annotation: which rules an object suppresses.

/// The annotation that suppresses rules for one object:
/// `mclint.io/ignore: "memory-limit-below-peak, proxy-unused-pool -- reason"`.
/// See [`parse_ignore`] for the grammar.
pub const IGNORE_ANNOTATION: &str = "mclint.io/ignore";

/// The value of a `mclint.io/ignore` annotation, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreAnnotation<'a> {
    /// The rule ids (`all` included as written), in order.
    pub ids: Vec<&'a str>,
    /// The text after the separator, trimmed; `None` when empty or absent.
    pub reason: Option<&'a str>,
}

/// Parses `ID[, ID...] [-- REASON]`, the documented grammar. Tolerated too:
/// ids separated by whitespace instead of (or besides) commas, and `:` as the
/// separator (`id1, id2: reason`). The ids end at the first `--` or `:`,
/// whichever comes first; rule ids contain neither.
pub fn parse_ignore(value: &str) -> IgnoreAnnotation<'_> {
    let cut = [value.find("--"), value.find(':')]
        .into_iter()
        .flatten()
        .min();
    let (ids, reason) = match cut {
        Some(i) => {
            let sep = if value[i..].starts_with("--") { 2 } else { 1 };
            (&value[..i], Some(value[i + sep..].trim()))
        }
        None => (value, None),
    };
    IgnoreAnnotation {
        ids: ids
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|id| !id.is_empty())
            .collect(),
        reason: reason.filter(|r| !r.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_annotations_parse_leniently() {
        let p = parse_ignore("memory-limit-below-peak,proxy-unused-pool -- the pool is for later");
        assert_eq!(p.ids, ["memory-limit-below-peak", "proxy-unused-pool"]);
        assert_eq!(p.reason, Some("the pool is for later"));
        let p = parse_ignore(" a , b\tc: why -- not: the ids");
        assert_eq!(p.ids, ["a", "b", "c"]);
        assert_eq!(p.reason, Some("why -- not: the ids"));
        let p = parse_ignore("a b -- x: y");
        assert_eq!(p.ids, ["a", "b"]);
        assert_eq!(p.reason, Some("x: y"));
        let p = parse_ignore("all");
        assert_eq!(p.ids, ["all"]);
        assert_eq!(p.reason, None);
        let p = parse_ignore("-- only a reason");
        assert!(p.ids.is_empty());
        assert_eq!(parse_ignore("x --").reason, None);
    }
}
