//! Where a name, host or key is written in a proxy config's text.
//!
//! Findings point at the line where a pool, backend or option is written, but
//! the VM only reports the line of the call (`pools{...}`). Searching the text
//! once per item from that line is quadratic: a pool listing 20,000 backends,
//! or an `options` table of 100,000 keys, rescans the same lines for each.
//!
//! [`LineIndex`] reads the text once, as Lua tokens (identifiers, numbers and
//! the contents of string literals, comments skipped), and keeps for each
//! token the lines it is written on. A search for a whole token is a hash
//! lookup and a binary search. A needle that is not a whole token (rare: a
//! string written with escapes, a fragment) falls back to a plain substring
//! search, whose total work per config is bounded by a budget proportional
//! to the text, so hostile input stays linear.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// A map of names (from the input) by foldhash under random keys drawn,
/// once per process, from the standard library's (which come from the
/// operating system), so input cannot be written to collide under keys it
/// cannot know (foldhash is no cryptographic hash: a process watched for a
/// long time could give its keys away; a lint run is short), and a lookup
/// costs a fraction of SipHash's (a token of a config's text, a backend's
/// host).
pub(crate) type Keyed<V> = HashMap<String, V, foldhash::quality::SeedableRandomState>;

pub(crate) fn keyed_state() -> foldhash::quality::SeedableRandomState {
    static KEYS: std::sync::OnceLock<(u64, foldhash::SharedSeed)> = std::sync::OnceLock::new();
    let (per_hasher, shared) = KEYS.get_or_init(|| {
        use std::hash::BuildHasher;
        let os = std::collections::hash_map::RandomState::new();
        (
            os.hash_one(1u64),
            foldhash::SharedSeed::from_u64(os.hash_one(2u64)),
        )
    });
    foldhash::quality::SeedableRandomState::with_seed(*per_hasher, shared)
}

/// Tokens and line starts of one config text.
#[derive(Debug)]
pub struct LineIndex {
    /// Byte offset of the start of each line (line n starts at `starts[n-1]`).
    starts: Vec<usize>,
    /// Each token's lines, ascending, without repeats (by keyed foldhash:
    /// a lookup per token of the text).
    tokens: Keyed<Vec<u32>>,
    /// Bytes the substring fallback may still scan.
    budget: AtomicU64,
}

impl Clone for LineIndex {
    fn clone(&self) -> Self {
        LineIndex {
            starts: self.starts.clone(),
            tokens: self.tokens.clone(),
            budget: AtomicU64::new(self.budget.load(Ordering::Relaxed)),
        }
    }
}

/// Fallback scanning allowed per config: this many times its length, plus a floor.
const FALLBACK_PER_BYTE: u64 = 32;
const FALLBACK_FLOOR: u64 = 1 << 20;

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        // `match_indices` of one ASCII byte finds it with memchr, a word at
        // a time.
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        // `str::lines` does not count an empty last line after a final newline.
        if starts.len() > 1 && *starts.last().unwrap() == text.len() {
            starts.pop();
        }
        let mut index = LineIndex {
            starts,
            tokens: HashMap::with_hasher(keyed_state()),
            budget: AtomicU64::new(
                (text.len() as u64)
                    .saturating_mul(FALLBACK_PER_BYTE)
                    .saturating_add(FALLBACK_FLOOR),
            ),
        };
        index.scan(text);
        index
    }

    /// Lines in the text (as `str::lines` counts them).
    pub fn line_count(&self) -> u32 {
        self.starts.len() as u32
    }

    /// The line of the first occurrence of `needle` at or after line `from`
    /// (1-based; none means the first line): where it is written as a whole
    /// token if it is, otherwise the first line that contains it.
    pub fn find(&self, text: &str, from: Option<u32>, needle: &str) -> Option<u32> {
        let from = from.unwrap_or(1).max(1);
        if text.is_empty() || from > self.line_count() {
            return None;
        }
        if needle.is_empty() {
            return Some(from);
        }
        if let Some(lines) = self.tokens.get(needle) {
            let i = lines.partition_point(|l| *l < from);
            if let Some(l) = lines.get(i) {
                return Some(*l);
            }
        }
        if needle.contains('\n') {
            return None;
        }
        self.fallback(text, from, needle)
    }

    fn fallback(&self, text: &str, from: u32, needle: &str) -> Option<u32> {
        let start = self.starts[from as usize - 1];
        let rest = &text[start..];
        let cost = rest.len() as u64 + needle.len() as u64;
        let left = self.budget.load(Ordering::Relaxed);
        if left < cost {
            return None;
        }
        self.budget.store(left - cost, Ordering::Relaxed);
        let at = start + rest.find(needle)?;
        Some(self.line_of(at))
    }

    /// The 1-based line holding byte offset `at`.
    fn line_of(&self, at: usize) -> u32 {
        self.starts.partition_point(|s| *s <= at) as u32
    }

    fn add(&mut self, token: &str, line: u32) {
        // A token seen before (most are) costs a lookup, not a copy.
        match self.tokens.get_mut(token) {
            Some(lines) => {
                if lines.last() != Some(&line) {
                    lines.push(line);
                }
            }
            None => {
                self.tokens.insert(token.to_string(), vec![line]);
            }
        }
    }

    /// Reads the text as Lua tokens.
    fn scan(&mut self, text: &str) {
        let b = text.as_bytes();
        let mut i = 0;
        let mut line = 1u32;
        while i < b.len() {
            let c = b[i];
            match c {
                b'\n' => {
                    line += 1;
                    i += 1;
                }
                b'-' if b.get(i + 1) == Some(&b'-') => {
                    i += 2;
                    if let Some(level) = long_bracket(b, i) {
                        let (end, lines) = close_long(b, i + level + 2, level);
                        line += lines;
                        i = end;
                    } else {
                        // `i` follows "--": a character boundary.
                        i = text
                            .get(i..)
                            .and_then(|rest| rest.find('\n'))
                            .map_or(b.len(), |k| i + k);
                    }
                }
                b'"' | b'\'' => {
                    let from = i + 1;
                    let mut j = from;
                    let mut lines = 0;
                    while j < b.len() && b[j] != c {
                        if b[j] == b'\\' && j + 1 < b.len() {
                            if b[j + 1] == b'\n' {
                                lines += 1;
                            }
                            j += 2;
                            continue;
                        }
                        if b[j] == b'\n' {
                            break;
                        }
                        j += 1;
                    }
                    let end = j.min(b.len());
                    if let Some(s) = text.get(from..end) {
                        self.add(s, line);
                    }
                    line += lines;
                    i = if j < b.len() && b[j] == c { j + 1 } else { j };
                }
                b'[' if long_bracket(b, i).is_some() => {
                    let level = long_bracket(b, i).unwrap_or(0);
                    let mut from = i + level + 2;
                    let start_line = line;
                    if b.get(from) == Some(&b'\n') {
                        from += 1;
                        line += 1;
                    }
                    let (end, lines) = close_long(b, from, level);
                    let content_end = end.saturating_sub(level + 2).max(from);
                    if let Some(s) = text.get(from..content_end) {
                        self.add(s, start_line);
                    }
                    line += lines;
                    i = end;
                }
                c if c == b'_' || c.is_ascii_alphanumeric() => {
                    let from = i;
                    while i < b.len()
                        && (b[i] == b'_'
                            || b[i].is_ascii_alphanumeric()
                            || (b[i] == b'.' && c.is_ascii_digit()))
                    {
                        i += 1;
                    }
                    if let Some(s) = text.get(from..i) {
                        self.add(s, line);
                    }
                }
                _ => i += 1,
            }
        }
    }
}

/// At `[`, `[[` or `[=*[`: the level (number of `=`), else none.
fn long_bracket(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'[') {
        return None;
    }
    let mut j = i + 1;
    while b.get(j) == Some(&b'=') {
        j += 1;
    }
    (b.get(j) == Some(&b'[')).then_some(j - i - 1)
}

/// From `from`, the offset just past `]=*]` of this level (or the end), and
/// the newlines passed.
fn close_long(b: &[u8], from: usize, level: usize) -> (usize, u32) {
    let mut i = from;
    let mut lines = 0;
    while i < b.len() {
        match b[i] {
            b'\n' => lines += 1,
            b']' => {
                let mut j = i + 1;
                while b.get(j) == Some(&b'=') {
                    j += 1;
                }
                if j - i - 1 == level && b.get(j) == Some(&b']') {
                    return (j + 1, lines);
                }
            }
            _ => {}
        }
        i += 1;
    }
    (b.len(), lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(text: &str, from: u32, needle: &str) -> Option<u32> {
        LineIndex::new(text).find(text, Some(from), needle)
    }

    const CONFIG: &str = r#"-- backends are listed below
pools {
    main = {
        backends = {
            "cache-0.cache:11211",
            'cache-1.cache:11211',
            [[cache-2.cache:11211]],
        },
        options = { opt_1 = 10, ["key with space"] = 2 },
    },
}
--[[ main = old
]] routes { default = route_direct { child = "main" } }
"#;

    #[test]
    fn whole_tokens_are_found_on_their_lines() {
        assert_eq!(find(CONFIG, 1, "main"), Some(3));
        assert_eq!(find(CONFIG, 4, "main"), Some(13));
        assert_eq!(find(CONFIG, 1, "backends"), Some(4));
        assert_eq!(find(CONFIG, 1, "cache-1.cache:11211"), Some(6));
        assert_eq!(find(CONFIG, 1, "cache-2.cache:11211"), Some(7));
        assert_eq!(find(CONFIG, 1, "10"), Some(9));
        assert_eq!(find(CONFIG, 1, "key with space"), Some(9));
        assert_eq!(find(CONFIG, 1, "default"), Some(13));
    }

    #[test]
    fn fragments_fall_back_to_the_first_line_that_contains_them() {
        assert_eq!(find(CONFIG, 1, "cache-0"), Some(5));
        assert_eq!(find(CONFIG, 1, "route_dir"), Some(13));
        // In a comment only.
        assert_eq!(find(CONFIG, 1, "are listed"), Some(1));
        assert_eq!(find(CONFIG, 1, "absent"), None);
        assert_eq!(find(CONFIG, 14, "main"), None);
        assert_eq!(find(CONFIG, 2, ""), Some(2));
    }

    #[test]
    fn lines_count_as_str_lines_does() {
        for text in ["a\nb\n", "a\nb", "a\r\nb\r\n", "\n\n", "x"] {
            assert_eq!(
                LineIndex::new(text).line_count() as usize,
                text.lines().count(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn the_fallback_is_bounded() {
        // Thousands of searches for absent fragments scan at most the budget.
        let text = "x\n".repeat(10_000);
        let index = LineIndex::new(&text);
        for _ in 0..100_000 {
            assert_eq!(index.find(&text, Some(1), "y"), None);
        }
        assert!(index.budget.load(Ordering::Relaxed) < text.len() as u64 + 2);
    }
}
