//! How much memory a memcached 1.6.38 process can use, from its command line.
//!
//! The constants are calibrated on the real server by `scripts/measure-memory`
//! (results in `docs/memory-measurements.csv`, reasoning in
//! `docs/memory-model.md`). The estimate is a worst case for the configuration:
//! the cache filled with the smallest items (the most items, so the largest
//! hash table), a page in every slab class, every allowed connection holding a
//! read buffer, plus per-thread state and the process baseline. Values are
//! bytes of resident memory (what a container's memory limit counts).

use super::cmdline::{MemcachedArgs, SLAB_PAGE_SIZE, atoi};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;

/// `sizeof(item)` in memcached 1.6.38 (without CAS).
pub const ITEM_HEADER: u64 = 48;
/// Largest number of slab classes (`MAX_NUMBER_OF_SLAB_CLASSES - 1`).
pub const MAX_SLAB_CLASSES: usize = 63;
/// Each 1 MiB slab page is its own `malloc` above glibc's mmap threshold: one
/// more 4 KiB page of header per slab page is resident.
pub const PAGE_MALLOC_OVERHEAD: u64 = 4 * KIB;
/// Process baseline of a cache: binary, libevent, stats, LRU/crawler/maintainer
/// threads, the untouched-until-used hash table's first pages. Measured idle
/// with `-t 1`: 3.4 MiB.
pub const BASELINE: u64 = 4 * MIB;
/// Per worker thread: stack pages, logger buffer, per-thread caches and
/// stats. Measured: 60 KiB idle, 130 KiB after traffic.
pub const THREAD: u64 = 192 * KIB;
/// Per allowed connection (`-c`): the connection object and its event, and a
/// 16 KiB read buffer while a request is in flight. Measured: 0.6 KiB idle,
/// 17.6 KiB with a read buffer's worth of requests pending.
pub const CONNECTION_IDLE: u64 = KIB;
pub const READ_BUFFER: u64 = 16 * KIB;
/// Per connection when a client pipelines a read buffer full of 100-key
/// multi-gets and reads the answers slowly: response objects (1184 bytes, 13
/// to a 16 KiB bundle) pile up. Measured 1.6 to 1.7 MiB per connection with
/// 1,000 connections. Without
/// `-o read_buf_mem_limit` nothing bounds this.
pub const BURST_PER_CONNECTION: u64 = 1856 * KIB;
/// Proxy (`-o proxy_config=routelib`): baseline and per worker thread (its own
/// Lua VM with routelib and the config; measured 250 KiB with 3 backends and
/// 360 KiB with 10; this allows about 30 backends).
pub const PROXY_BASELINE: u64 = 4 * MIB + 512 * KIB;
pub const PROXY_THREAD: u64 = 512 * KIB;
/// extstore keeps `PAGE_BUCKET_COUNT` (6) write buffers of `ext_wbuf_size`
/// (default 4 MiB). From the source, not measured.
pub const EXT_WRITE_BUFFERS: u64 = 6;
pub const EXT_WBUF_DEFAULT: u64 = 4 * MIB;
/// Bytes of one hash bucket (a pointer).
pub const HASH_BUCKET: u64 = 8;

/// An estimate in bytes, by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// Slab memory: `-m`, the first page every other slab class takes even
    /// when the limit is reached, malloc headers; extstore write buffers.
    pub cache: u64,
    /// The hash table grown for the most items `-m` can hold (smallest items),
    /// plus the old half-size table while the last expansion runs.
    pub hash_table: u64,
    /// `-c` connections each holding a read buffer, or the
    /// `read_buf_mem_limit` when that is smaller.
    pub connections: u64,
    /// Worker threads (`-t`).
    pub threads: u64,
    /// The process itself.
    pub baseline: u64,
    /// The sum: the most memory the process should reach.
    pub total_peak: u64,
    /// Most items the cache can hold.
    pub max_items: u64,
    /// Final hash power (`hash_power_level`).
    pub hash_power: u32,
    /// Number of slab classes.
    pub slab_classes: usize,
}

impl MemoryEstimate {
    /// The request to set: what the process holds once the cache is full
    /// (`-m`, hash table, threads, baseline), in whole MiB.
    pub fn recommended_request(&self) -> u64 {
        let steady = self.total_peak - self.connections - self.slab_class_pages();
        steady.div_ceil(MIB) * MIB
    }

    /// The limit to set: the peak, in whole MiB.
    pub fn recommended_limit(&self) -> u64 {
        self.total_peak.div_ceil(MIB) * MIB
    }

    fn slab_class_pages(&self) -> u64 {
        // Part of `cache` beyond -m: only reached by unusual size mixes.
        (self.slab_classes.saturating_sub(1) as u64) * SLAB_PAGE_SIZE
    }

    /// The breakdown for messages: "cache 102.0 MiB + hash table 4.0 MiB + ...".
    pub fn breakdown(&self) -> String {
        use super::quantity::mib;
        let tail = format!(
            "connections {} + threads {} + baseline {}",
            mib(self.connections),
            mib(self.threads),
            mib(self.baseline)
        );
        if self.cache == 0 && self.hash_table == 0 {
            return tail;
        }
        format!(
            "cache {} + hash table {} + {tail}",
            mib(self.cache),
            mib(self.hash_table)
        )
    }
}

/// The chunk sizes of the slab classes, as `slabs_init` computes them from
/// `-n`, `-f`, `slab_chunk_max` and `slab_sizes`.
pub fn slab_classes(args: &MemcachedArgs) -> Vec<u64> {
    let chunk_max = args.slab_chunk_max.value.max(1);
    if let Some(list) = args.subopt("slab_sizes").and_then(|s| s.value.as_deref()) {
        let mut sizes: Vec<u64> = list
            .split('-')
            .filter_map(|s| s.parse::<u64>().ok())
            .take(MAX_SLAB_CLASSES - 1)
            .collect();
        sizes.push(chunk_max);
        return sizes;
    }
    let factor = args
        .last('f')
        .and_then(|o| o.value.as_deref())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|f| *f > 1.0)
        .unwrap_or(1.25);
    let min_data = args
        .last('n')
        .and_then(|o| o.value.as_deref())
        .map(|v| atoi(v).0)
        .filter(|n| *n > 0)
        .unwrap_or(48) as u64;
    let mut out = Vec::new();
    let mut size = ITEM_HEADER + min_data;
    while out.len() < MAX_SLAB_CLASSES - 1 {
        if size as f64 >= chunk_max as f64 / factor {
            break;
        }
        if !size.is_multiple_of(8) {
            size += 8 - size % 8;
        }
        out.push(size);
        size = (size as f64 * factor) as u64;
    }
    out.push(chunk_max);
    out
}

/// The worst-case memory of the process `args` configure.
pub fn estimate(args: &MemcachedArgs) -> MemoryEstimate {
    let threads = args.threads.value.max(1)
        * if args.is_proxy() {
            PROXY_THREAD
        } else {
            THREAD
        };
    let connections = connection_bytes(args, READ_BUFFER);
    if args.is_proxy() {
        let baseline = PROXY_BASELINE;
        return MemoryEstimate {
            cache: 0,
            hash_table: 0,
            connections,
            threads,
            baseline,
            total_peak: connections + threads + baseline,
            max_items: 0,
            hash_power: args.hashpower.value,
            slab_classes: 0,
        };
    }
    let classes = slab_classes(args);
    let pages = args.memory_mib.value;
    let extra_pages = classes.len().saturating_sub(1) as u64;
    let mut cache = (pages + extra_pages) * (SLAB_PAGE_SIZE + PAGE_MALLOC_OVERHEAD);
    if args.uses_extstore() {
        let wbuf = args
            .ext
            .iter()
            .rev()
            .find(|s| s.name == "ext_wbuf_size")
            .and_then(|s| s.value.as_deref())
            .and_then(|v| v.parse::<u64>().ok())
            .map(|mb| mb * MIB)
            .unwrap_or(EXT_WBUF_DEFAULT);
        cache += EXT_WRITE_BUFFERS * wbuf;
    }
    // The most items: every -m page cut into the smallest chunks, one page of
    // every other class.
    let smallest = classes.first().copied().unwrap_or(96).max(1);
    let max_items = pages * (SLAB_PAGE_SIZE / smallest)
        + classes
            .iter()
            .skip(1)
            .map(|c| SLAB_PAGE_SIZE / (*c).max(1))
            .sum::<u64>();
    // assoc.c: expand (double) when items > 1.5 x buckets.
    let mut hp = args.hashpower.value.clamp(12, 32);
    if !args.no_hashexpand {
        while hp < 32 && max_items > (1u64 << hp) * 3 / 2 {
            hp += 1;
        }
    }
    let table = (1u64 << hp) * HASH_BUCKET;
    // The old table lives until the expansion ends. Items a little larger
    // than the smallest reach the same hash power with the last expansion
    // running when the cache is full (measured: -m 256 with 64-byte values
    // peaked 8 MiB above its final RSS), so count it whenever the table grew.
    let hash_table = if hp > args.hashpower.value {
        table + table / 2
    } else {
        table
    };
    let baseline = BASELINE;
    MemoryEstimate {
        cache,
        hash_table,
        connections,
        threads,
        baseline,
        total_peak: cache + hash_table + connections + threads + baseline,
        max_items,
        hash_power: hp,
        slab_classes: classes.len(),
    }
}

/// Connection memory when each of the `-c` connections holds `per_conn_buffer`
/// bytes, capped by `read_buf_mem_limit` (split per thread in 16 KiB
/// buffers, at least one per thread, as thread.c does).
fn connection_bytes(args: &MemcachedArgs, per_conn_buffer: u64) -> u64 {
    let c = args.conn_limit.value;
    let buffers = c * per_conn_buffer;
    let buffers = match read_buf_cap(args) {
        Some(cap) => buffers.min(cap),
        None => buffers,
    };
    c * CONNECTION_IDLE + buffers
}

/// What `read_buf_mem_limit` lets the read and response buffers reach.
pub fn read_buf_cap(args: &MemcachedArgs) -> Option<u64> {
    let limit = args.read_buf_mem_limit.value?;
    let t = args.threads.value.max(1);
    let per_thread = (limit / t / READ_BUFFER).max(1);
    Some(per_thread * t * READ_BUFFER)
}

/// Connection memory in a burst: every connection pipelining multi-gets to a
/// slow reader (`BURST_PER_CONNECTION`), capped by `read_buf_mem_limit`.
pub fn burst_connections(args: &MemcachedArgs) -> u64 {
    connection_bytes(args, BURST_PER_CONNECTION)
}

/// The peak during such a burst.
pub fn burst_peak(args: &MemcachedArgs) -> u64 {
    let e = estimate(args);
    e.total_peak - e.connections + burst_connections(args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memcached::cmdline::{ArgRef, ArgWord, parse};

    fn args(list: &[&str]) -> MemcachedArgs {
        let words: Vec<ArgWord> = list
            .iter()
            .enumerate()
            .map(|(i, s)| ArgWord::new(*s, ArgRef::args(i)))
            .collect();
        parse(&words)
    }

    #[test]
    fn default_slab_classes_match_memcached() {
        // `memcached -vv` lists 39 classes: 96, 120, 152, ... 394840, 524288.
        let c = slab_classes(&args(&[]));
        assert_eq!(c.len(), 39);
        assert_eq!(&c[..4], &[96, 120, 152, 192]);
        assert_eq!(c[c.len() - 2], 394840);
        assert_eq!(*c.last().unwrap(), 524288);
        assert_eq!(
            slab_classes(&args(&["-o", "slab_sizes=100-200-300"])),
            vec![100, 200, 300, 524288]
        );
        assert!(slab_classes(&args(&["-f", "2"])).len() < 39);
        assert_eq!(slab_classes(&args(&["-n", "16"]))[0], 64);
    }

    #[test]
    fn hash_table_grows_with_items() {
        let e = estimate(&args(&["-m", "64"]));
        // 64 MiB of 96-byte chunks: ~700k items -> hash power 19 (4 MiB), as measured.
        assert_eq!(e.hash_power, 19);
        assert_eq!(e.hash_table, 6 * MIB);
        let big = estimate(&args(&["-m", "4096"]));
        assert_eq!(big.hash_power, 25);
        assert_eq!(big.hash_table, 384 * MIB);
        let fixed = estimate(&args(&["-m", "4096", "-o", "hashpower=16,no_hashexpand"]));
        assert_eq!(fixed.hash_table, 512 * KIB);
    }

    #[test]
    fn parts_add_up_and_react_to_flags() {
        let e = estimate(&args(&["-m", "256", "-c", "1024", "-t", "4"]));
        assert_eq!(
            e.total_peak,
            e.cache + e.hash_table + e.connections + e.threads + e.baseline
        );
        assert!(e.cache >= 256 * MIB);
        assert_eq!(e.connections, 1024 * (CONNECTION_IDLE + READ_BUFFER));
        let capped = estimate(&args(&[
            "-m",
            "256",
            "-c",
            "1024",
            "-o",
            "read_buf_mem_limit=4",
        ]));
        assert_eq!(capped.connections, 1024 * CONNECTION_IDLE + 4 * MIB);
        let more_threads = estimate(&args(&["-m", "256", "-t", "16"]));
        assert!(more_threads.threads > e.threads);
        let ext = estimate(&args(&[
            "-m",
            "256",
            "-o",
            "ext_path=/data/f:1G,ext_wbuf_size=8",
        ]));
        assert_eq!(ext.cache - e.cache, 48 * MIB);
        assert!(e.recommended_limit() >= e.total_peak);
        assert!(e.recommended_request() >= 256 * MIB);
        assert!(e.recommended_request() < e.recommended_limit());
    }

    #[test]
    fn proxy_has_no_cache() {
        let e = estimate(&args(&[
            "-o",
            "proxy_config=routelib,proxy_arg=/x.lua",
            "-t",
            "4",
        ]));
        assert_eq!(e.cache + e.hash_table, 0);
        assert_eq!(e.threads, 4 * PROXY_THREAD);
    }

    #[test]
    fn read_buf_cap_follows_thread_split() {
        // 1 MiB over 4 threads: 256 KiB each, 16 buffers each.
        assert_eq!(
            read_buf_cap(&args(&["-o", "read_buf_mem_limit=1", "-t", "4"])),
            Some(MIB)
        );
        // Less than a buffer per thread still allows one each.
        assert_eq!(
            read_buf_cap(&args(&["-o", "read_buf_mem_limit=1", "-t", "128"])),
            Some(128 * READ_BUFFER)
        );
        assert_eq!(read_buf_cap(&args(&["-o", "read_buf_mem_limit=0"])), None);
        let a = args(&["-c", "1000"]);
        assert_eq!(
            burst_connections(&a),
            1000 * (CONNECTION_IDLE + BURST_PER_CONNECTION)
        );
    }
}
