//! Key placement as memcached 1.6.38's proxy does it: an optional key filter
//! (`stop` or `tags`), XXH3-64 of the (filtered) key seeded with XXH3-64 of the
//! pool's `seed` string (0 when unseeded), then jump consistent hash over the
//! number of backends, with the proxy's own arithmetic (`proxy_jump_hash.c`).
//! Pure Rust: no Lua runs per key.

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// A key filter: which part of the key is hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyFilter {
    None,
    /// Hash up to the first occurrence of the string.
    Stop(Vec<u8>),
    /// Hash what lies between the first byte `.0` and the next byte `.1`.
    Tags(u8, u8),
}

/// Longest key memcached accepts; the stop filter leaves longer keys alone.
pub const KEY_MAX_LENGTH: usize = 250;

/// The proxy crashes hashing this key (a `tags` filter whose two delimiters are
/// the same byte computes a negative length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterCrash;

/// The part of `key` the pool hashes.
pub fn filtered<'a>(filter: &KeyFilter, key: &'a [u8]) -> Result<&'a [u8], FilterCrash> {
    match filter {
        KeyFilter::None => Ok(key),
        KeyFilter::Stop(stop) => {
            if key.len() > KEY_MAX_LENGTH || stop.is_empty() {
                return Ok(key);
            }
            // strstr() stops at a NUL in the key; keys have none.
            let end = key.iter().position(|&b| b == 0).unwrap_or(key.len());
            let hay = &key[..end];
            match find(hay, stop) {
                Some(i) => Ok(&key[..i]),
                None => Ok(key),
            }
        }
        KeyFilter::Tags(open, close) => {
            let Some(t1) = key.iter().position(|b| b == open) else {
                return Ok(key);
            };
            let remain = key.len() - t1;
            if remain <= 1 {
                return Ok(key);
            }
            // The proxy searches for the closing byte starting AT the opening one.
            match key[t1..].iter().position(|b| b == close) {
                Some(0) => Err(FilterCrash),
                Some(off) => Ok(&key[t1 + 1..t1 + off]),
                None => Ok(key),
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() > hay.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// XXH3-64 of the seed string, as the proxy seeds a pool; 0 when unseeded.
pub fn seed_hash(seed: Option<&str>) -> u64 {
    seed.map(|s| xxhash_rust::xxh3::xxh3_64(s.as_bytes()))
        .unwrap_or(0)
}

/// The proxy's jump hash: a bucket in `0..buckets`, or `None` when there are
/// no buckets (the proxy then has no backend for the key).
#[inline]
pub fn jump(mut hash: u64, buckets: u32) -> Option<u32> {
    let mut b: i64 = -1;
    let mut j: i64 = 0;
    while j < i64::from(buckets) {
        b = j;
        hash = hash.wrapping_mul(2862933555777941757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1i64 << 31) as f64 / ((hash >> 33) + 1) as f64)) as i64;
    }
    u32::try_from(b).ok()
}

/// The backend index of `key` in a pool of `buckets` backends.
#[inline]
pub fn place(
    filter: &KeyFilter,
    seed_hash: u64,
    buckets: u32,
    key: &[u8],
) -> Result<Option<u32>, FilterCrash> {
    let k = filtered(filter, key)?;
    Ok(jump(xxh3_64_with_seed(k, seed_hash), buckets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jump_stays_in_range_and_is_stable() {
        for n in 1..20u32 {
            for h in [0u64, 1, 42, u64::MAX, 0xdead_beef] {
                let b = jump(h, n).unwrap();
                assert!(b < n);
            }
        }
        assert_eq!(jump(12345, 0), None);
        // Growing the pool moves keys only to the new bucket.
        for h in 0..2000u64 {
            let a = jump(h.wrapping_mul(0x9e37_79b9_7f4a_7c15), 7).unwrap();
            let b = jump(h.wrapping_mul(0x9e37_79b9_7f4a_7c15), 8).unwrap();
            assert!(a == b || b == 7);
        }
    }

    #[test]
    fn filters_cut_keys_like_the_proxy() {
        let stop = KeyFilter::Stop(b"|#|".to_vec());
        assert_eq!(filtered(&stop, b"foo:bar|#|rest").unwrap(), b"foo:bar");
        assert_eq!(filtered(&stop, b"plain").unwrap(), b"plain");
        assert_eq!(filtered(&stop, b"|#|x").unwrap(), b"");
        let tags = KeyFilter::Tags(b'{', b'}');
        assert_eq!(filtered(&tags, b"user{42}:name").unwrap(), b"42");
        assert_eq!(filtered(&tags, b"a{}b").unwrap(), b"");
        assert_eq!(filtered(&tags, b"abc{").unwrap(), b"abc{");
        assert_eq!(filtered(&tags, b"abc{x").unwrap(), b"abc{x");
        let same = KeyFilter::Tags(b'$', b'$');
        assert_eq!(filtered(&same, b"a$b$c"), Err(FilterCrash));
        assert_eq!(filtered(&same, b"ab$").unwrap(), b"ab$");
    }
}
