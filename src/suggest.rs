//! "Did you mean …?" for misspelled names.

/// Levenshtein distance, for short identifiers.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest candidate within a distance that still looks like a typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| {
            (
                distance(&word.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// Candidates that look like what `word` meant, best first, at most `max`: a
/// misspelling of the whole name, or of a part of it made of whole
/// `-`-separated words (`unit-slip`, `below-peak`, `pek`, `limit-blow`), for
/// ids such as `memory-unit-slip`. Within the distance a typo allows
/// ([`nearest`]'s) and at most one edit farther than the best, closer first;
/// ties go to the shorter name, then in alphabetical order.
pub fn nearest_ids<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    max: usize,
) -> Vec<&'a str> {
    let word = word.trim().to_ascii_lowercase();
    let word_len = word.chars().count();
    if word_len == 0 || word_len > 200 {
        return Vec::new();
    }
    let limit = (word_len / 3).max(1);
    let mut scored: Vec<(usize, usize, &str)> = candidates
        .into_iter()
        .filter_map(|c| {
            let lower = c.to_ascii_lowercase();
            let parts: Vec<&str> = lower.split('-').collect();
            let mut best = distance(&word, &lower);
            for start in 0..parts.len() {
                for end in start + 1..=parts.len() {
                    best = best.min(distance(&word, &parts[start..end].join("-")));
                }
            }
            (best <= limit).then_some((best, c.len(), c))
        })
        .collect();
    scored.sort();
    scored.dedup_by_key(|s| s.2);
    // Only the nearest: a clearly closer match hides the far ones.
    let best = scored.first().map_or(0, |s| s.0);
    scored
        .into_iter()
        .take_while(|s| s.0 <= best + 1)
        .take(max)
        .map(|(_, _, c)| c)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn suggests_close_names() {
        assert_eq!(
            super::nearest("failover_cout", ["failover_count", "child"]),
            Some("failover_count")
        );
        assert_eq!(super::nearest("zzz", ["failover_count", "child"]), None);
    }

    #[test]
    fn suggests_ids_from_parts_and_typos() {
        let ids = [
            "memory-unit-slip",
            "memory-limit-below-peak",
            "memory-pod-limit-below-peak",
            "memory-request-below-cache",
            "proxy-unused-pool",
        ];
        assert_eq!(
            super::nearest_ids("unit-slip", ids, 5),
            ["memory-unit-slip"]
        );
        assert_eq!(super::nearest_ids("unit-slp", ids, 5), ["memory-unit-slip"]);
        assert_eq!(
            super::nearest_ids("limit-below-peak", ids, 5),
            ["memory-limit-below-peak", "memory-pod-limit-below-peak"]
        );
        assert_eq!(
            super::nearest_ids("memory-limit-belwo-peak", ids, 5),
            ["memory-limit-below-peak"]
        );
        assert_eq!(super::nearest_ids("below", ids, 2).len(), 2);
        assert_eq!(
            super::nearest_ids("PROXY-UNUSED", ids, 5),
            ["proxy-unused-pool"]
        );
        assert!(super::nearest_ids("zzzzzz", ids, 5).is_empty());
        assert!(super::nearest_ids("", ids, 5).is_empty());
    }
}
