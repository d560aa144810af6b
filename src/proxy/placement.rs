//! Which backend of a pool a key reaches, for both distributions memcached
//! 1.6.38's proxy ships: jump consistent hash (the default) and
//! `mcp.dist_ring_hash`, a ketama-style continuum (`proxy_ring_hash.c`).
//!
//! A pool hashes a key in three steps, each modelled here as the proxy does it:
//! 1. the key filter (`filter`/`filter_conf`) cuts out the part to hash;
//! 2. the key hasher makes a 64-bit number: XXH3-64 seeded with XXH3-64 of the
//!    pool's `seed` (the default, or `hash = mcp.hash_xxhash`), or, with
//!    `hash = mcp.dist_ring_hash.hash`, the first four bytes of the key's MD5
//!    read little-endian (the seed is then ignored);
//! 3. the distribution turns the number into a backend: jump hash over the
//!    backend count, or the ring's lookup of the number's low 32 bits.
//!
//! The ring is built once per pool. Its lookup is the proxy's own binary
//! search, quirks included: in 1.6.38 `omode = "default"` (also when `omode`
//! is not given) never advances its write position, so the whole ring is one
//! point plus zeroed slots and every key lands on the last backend; with
//! `obuckets` not a multiple of 4 the ketama modes leave the ring's tail
//! unfilled. The model fills never-written slots with zeros, which is what a
//! fresh allocation holds; the real proxy reads whatever memory it got.

use md5::{Digest, Md5};
use xxhash_rust::xxh3::xxh3_64_with_seed;

use super::hash::{self, FilterCrash};
use super::model::{Dist, KeyFilter, Pool};
use super::value::Lv;

/// Points per backend when `obuckets` is not given.
pub const DEFAULT_BUCKETS: i64 = 160;

/// Largest ring (points over all backends) mclint builds.
pub const MAX_RING_POINTS: i64 = 1 << 24;

/// The key hasher of a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyHash {
    /// XXH3-64 with this seed (XXH3-64 of the `seed` string, or 0).
    Xxh3(u64),
    /// `mcp.dist_ring_hash.hash`: MD5, first four bytes little-endian.
    Md5,
}

impl KeyHash {
    #[inline]
    pub fn hash(&self, key: &[u8]) -> u64 {
        match self {
            KeyHash::Xxh3(seed) => xxh3_64_with_seed(key, *seed),
            KeyHash::Md5 => {
                let d = Md5::digest(key);
                u64::from(u32::from_le_bytes([d[0], d[1], d[2], d[3]]))
            }
        }
    }
}

/// How `mcp.dist_ring_hash` names each backend on the ring (`omode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RingMode {
    /// XXH3 points; broken in 1.6.38 (see the module docs).
    Default,
    /// `host:port-N`, MD5, four points per digest.
    Ketama,
    /// As ketama, but `host-N` when the port is 11211 (libmemcached's way).
    Twemproxy,
    /// `host/host:port-N`.
    Evcache,
}

impl RingMode {
    /// The `omode` string.
    pub fn name(self) -> &'static str {
        match self {
            RingMode::Default => "default",
            RingMode::Ketama => "ketama",
            RingMode::Twemproxy => "twemproxy",
            RingMode::Evcache => "evcache",
        }
    }

    pub fn parse(s: &str) -> Option<RingMode> {
        Some(match s {
            "default" => RingMode::Default,
            "ketama" => RingMode::Ketama,
            "twemproxy" => RingMode::Twemproxy,
            "evcache" => RingMode::Evcache,
            _ => return None,
        })
    }
}

/// Why mclint cannot place a pool's keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlacementError {
    /// A ring option the proxy refuses while loading: the option (`omode` or
    /// `obuckets`) and the proxy's error.
    #[error("{message}")]
    RingOption {
        option: &'static str,
        message: String,
    },
    #[error(
        "a ring of {buckets} points for each of {backends} backends is larger than mclint models ({MAX_RING_POINTS} points)"
    )]
    RingTooLarge { buckets: i64, backends: usize },
    #[error("dist {0}, which mclint cannot place keys with")]
    UnknownDist(String),
}

/// The ring options of a pool, as `mcp.dist_ring_hash.new` reads them from the
/// pool options; `Err` is [`PlacementError::RingOption`].
pub fn ring_options(options: &super::value::Table) -> Result<(RingMode, i64), PlacementError> {
    let mode = match options.get("omode") {
        None | Some(Lv::Nil) => RingMode::Default,
        Some(Lv::Str(s)) => RingMode::parse(s).ok_or_else(|| PlacementError::RingOption {
            option: "omode",
            message: format!(
                "ring_hash: bad omode argument \"{s}\" (default, ketama, twemproxy or evcache)"
            ),
        })?,
        Some(other) => {
            return Err(PlacementError::RingOption {
                option: "omode",
                message: format!("ring_hash: omode is {}; it must be a string", other.show()),
            });
        }
    };
    let buckets = match options.get("obuckets") {
        None | Some(Lv::Nil) => DEFAULT_BUCKETS,
        Some(v) => match lua_integer(v) {
            Some(n) if n >= 1 => n,
            _ => {
                return Err(PlacementError::RingOption {
                    option: "obuckets",
                    message: format!(
                        "ring_hash: obuckets is {}; it must be a positive integer",
                        v.show()
                    ),
                });
            }
        },
    };
    Ok((mode, buckets))
}

/// `lua_tointegerx`: integers, floats with an integral value, and strings that
/// convert to one.
fn lua_integer(v: &Lv) -> Option<i64> {
    match v {
        Lv::Int(i) => Some(*i),
        Lv::Num(n) if n.fract() == 0.0 && n.abs() < 9.2e18 => Some(*n as i64),
        Lv::Str(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|n| n.fract() == 0.0 && n.abs() < 9.2e18)
                    .map(|n| n as i64)
            })
        }
        _ => None,
    }
}

/// A `mcp.dist_ring_hash` continuum: `(point, id)` with 1-based backend ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ring {
    points: Vec<(u32, u32)>,
}

impl Ring {
    /// Builds the ring for backends given as `(host, port)` in pool order.
    pub fn build(
        mode: RingMode,
        buckets: i64,
        backends: &[(&str, &str)],
    ) -> Result<Ring, PlacementError> {
        let total = buckets
            .checked_mul(backends.len() as i64)
            .filter(|&t| t <= MAX_RING_POINTS)
            .ok_or(PlacementError::RingTooLarge {
                buckets,
                backends: backends.len(),
            })?;
        let mut points = vec![(0u32, 0u32); total as usize];
        let mut cont = 0usize;
        for (i, (host, port)) in backends.iter().enumerate() {
            let id = i as u32 + 1;
            match mode {
                RingMode::Default => {
                    // The write position never moves: each point overwrites slot `cont`.
                    for k in 0..buckets {
                        let s = format!("{host}:{port}-{k}");
                        points[cont] = (xxhash_rust::xxh3::xxh3_64(s.as_bytes()) as u32, id);
                    }
                }
                RingMode::Ketama | RingMode::Twemproxy | RingMode::Evcache => {
                    for k in 0..buckets / 4 {
                        let s = match mode {
                            RingMode::Twemproxy if *port == "11211" => format!("{host}-{k}"),
                            RingMode::Evcache => format!("{host}/{host}:{port}-{k}"),
                            _ => format!("{host}:{port}-{k}"),
                        };
                        let d = Md5::digest(s.as_bytes());
                        for h in 0..4 {
                            let b = &d[h * 4..h * 4 + 4];
                            points[cont] = (u32::from_le_bytes([b[0], b[1], b[2], b[3]]), id);
                            cont += 1;
                        }
                    }
                }
            }
        }
        // glibc's qsort sorts this size with a merge sort: stable, like this one.
        points[..cont].sort_by_key(|p| p.0);
        Ok(Ring { points })
    }

    /// The proxy's `ketama_get_server`: a 0-based backend index, which may be
    /// out of range (the proxy then has no backend for the key).
    pub fn lookup(&self, hash: u64) -> u32 {
        let c = &self.points;
        let total = c.len() as i64;
        let first = || c.first().map_or(0, |p| p.1).wrapping_sub(1);
        let h = hash as u32;
        let (mut low, mut high) = (0i64, total);
        loop {
            let mid = (low + high) / 2;
            if mid == total {
                return first();
            }
            let midval = c[mid as usize].0;
            let midval1 = if mid == 0 { 0 } else { c[mid as usize - 1].0 };
            if h <= midval && h > midval1 {
                return c[mid as usize].1.wrapping_sub(1);
            }
            if midval < h {
                low = mid + 1;
            } else {
                high = mid - 1;
            }
            if low > high {
                return first();
            }
        }
    }
}

/// How a pool's keys reach backends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spread {
    Jump,
    Ring(Ring),
}

/// Everything needed to place a key in one pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placer {
    pub filter: KeyFilter,
    pub hash: KeyHash,
    pub spread: Spread,
    pub backends: u32,
}

impl Placer {
    /// The placer for a pool of the model; `Err` says why mclint cannot place
    /// its keys (an unknown `dist`, a ring the proxy refuses or that is too big).
    pub fn for_pool(p: &Pool) -> Result<Placer, PlacementError> {
        let hash = match p.effective.get("hash") {
            Some(Lv::Const(c)) if c == "dist_ring_hash.hash" => KeyHash::Md5,
            _ => KeyHash::Xxh3(p.seed_hash),
        };
        let spread = match &p.dist {
            Dist::Jump => Spread::Jump,
            Dist::Ring => {
                let (mode, buckets) = ring_options(&p.effective)?;
                let backends: Vec<(&str, &str)> = p
                    .backends
                    .iter()
                    .map(|b| (b.host.as_str(), b.port.as_str()))
                    .collect();
                Spread::Ring(Ring::build(mode, buckets, &backends)?)
            }
            Dist::Other(d) => return Err(PlacementError::UnknownDist(d.clone())),
        };
        Ok(Placer {
            filter: p.filter.clone(),
            hash,
            spread,
            backends: p.backends.len() as u32,
        })
    }

    /// The backend index of `key`, `None` when the pool has no backend for it
    /// (no backends, or a ring lookup out of range).
    #[inline]
    pub fn place(&self, key: &[u8]) -> Result<Option<u32>, FilterCrash> {
        let k = hash::filtered(&self.filter, key)?;
        let h = self.hash.hash(k);
        Ok(match &self.spread {
            Spread::Jump => hash::jump(h, self.backends),
            Spread::Ring(r) => Some(r.lookup(h)).filter(|&b| b < self.backends),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(mode: RingMode, buckets: i64, n: usize) -> Ring {
        let ports: Vec<String> = (0..n).map(|i| (11211 + i).to_string()).collect();
        let b: Vec<(&str, &str)> = ports.iter().map(|p| ("10.0.0.1", p.as_str())).collect();
        Ring::build(mode, buckets, &b).unwrap()
    }

    #[test]
    fn ketama_spreads_keys_over_every_backend() {
        let r = ring(RingMode::Ketama, 160, 4);
        let mut seen = [0usize; 4];
        for i in 0..4000u64 {
            let h = xxhash_rust::xxh3::xxh3_64(format!("k{i}").as_bytes());
            seen[r.lookup(h) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| n > 600), "{seen:?}");
    }

    #[test]
    fn lookup_takes_the_next_point_clockwise_and_wraps() {
        let r = Ring {
            points: vec![(10, 1), (20, 2), (30, 3)],
        };
        assert_eq!(r.lookup(5), 0);
        assert_eq!(r.lookup(10), 0);
        assert_eq!(r.lookup(11), 1);
        assert_eq!(r.lookup(30), 2);
        assert_eq!(r.lookup(31), 0, "past the last point wraps to the first");
        assert_eq!(
            r.lookup(u64::from(u32::MAX) + 15),
            1,
            "only the low 32 bits count"
        );
    }

    #[test]
    fn default_mode_puts_every_key_on_the_last_backend() {
        let r = ring(RingMode::Default, 160, 3);
        for i in 0..500u64 {
            let h = xxhash_rust::xxh3::xxh3_64(format!("k{i}").as_bytes());
            if h as u32 != 0 {
                assert_eq!(r.lookup(h), 2);
            }
        }
    }

    #[test]
    fn twemproxy_differs_from_ketama_only_on_port_11211() {
        let a: Vec<(&str, &str)> = vec![("a", "11211"), ("b", "11211")];
        let b: Vec<(&str, &str)> = vec![("a", "11212"), ("b", "11212")];
        assert_ne!(
            Ring::build(RingMode::Ketama, 160, &a),
            Ring::build(RingMode::Twemproxy, 160, &a)
        );
        assert_eq!(
            Ring::build(RingMode::Ketama, 160, &b),
            Ring::build(RingMode::Twemproxy, 160, &b)
        );
    }

    #[test]
    fn options_are_checked_as_the_proxy_checks_them() {
        use crate::proxy::value::{Key, Table};
        let t = |entries: &[(&str, Lv)]| Table {
            entries: entries
                .iter()
                .map(|(k, v)| (Key::Str(k.to_string()), v.clone()))
                .collect(),
        };
        assert_eq!(ring_options(&t(&[])), Ok((RingMode::Default, 160)));
        let ketama = ("omode", Lv::Str("ketama".into()));
        assert_eq!(
            ring_options(&t(&[ketama.clone(), ("obuckets", Lv::Str("40".into()))])),
            Ok((RingMode::Ketama, 40))
        );
        let half = t(&[ketama.clone(), ("obuckets", Lv::Num(2.5))]);
        assert!(
            ring_options(&half)
                .unwrap_err()
                .to_string()
                .contains("positive integer")
        );
        assert!(ring_options(&t(&[("obuckets", Lv::Int(0))])).is_err());
        let bad = t(&[("omode", Lv::Str("libketama".into()))]);
        assert!(
            ring_options(&bad)
                .unwrap_err()
                .to_string()
                .contains("bad omode")
        );
    }

    #[test]
    fn an_oversized_ring_is_refused_not_built() {
        let b: Vec<(&str, &str)> = vec![("a", "1"); 3];
        assert!(Ring::build(RingMode::Ketama, MAX_RING_POINTS, &b).is_err());
    }

    #[test]
    fn md5_key_hash_is_the_digest_head_little_endian() {
        // MD5("") = d41d8cd98f00b204e9800998ecf8427e
        assert_eq!(KeyHash::Md5.hash(b""), 0xd98c_1dd4);
    }
}
