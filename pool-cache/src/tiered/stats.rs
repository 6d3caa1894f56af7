//! [`TieredStats`]: what each tier did, and its export to `pool-metrics`.

use crate::l1::CacheStats;
use crate::sync::{AtomicU64, Ordering};
use pool_metrics::{Histogram, Registry, RegistryError};

/// A snapshot of a [`TieredCache`](crate::TieredCache)'s counters, per tier.
///
/// ```
/// use pool_cache::{MemoryL2, TieredCache};
///
/// let cache: TieredCache<u64, u64> = TieredCache::builder(10).l2(MemoryL2::new(1 << 20)?).build()?;
/// cache.insert(1, 1)?;
/// cache.get(&1);
/// cache.get(&2);
/// let s = cache.stats();
/// assert_eq!((s.l1.hits, s.l2_misses), (1, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct TieredStats {
    /// The L1's own counters.
    pub l1: CacheStats,
    /// L2 lookups that found a value.
    pub l2_hits: u64,
    /// L2 lookups that found nothing (or bytes another codec version wrote).
    pub l2_misses: u64,
    /// L2 calls that failed (down, timed out, refused), reads and writes.
    pub l2_errors: u64,
    /// L2 values that could not be decoded (read as misses).
    pub l2_decode_errors: u64,
    /// Bytes read from the L2.
    pub l2_bytes_read: u64,
    /// Bytes written to the L2.
    pub l2_bytes_written: u64,
    /// Loader calls.
    pub loads: u64,
    /// Loader calls that failed or panicked.
    pub load_errors: u64,
    /// Writes waiting in the write-behind queue now.
    pub queue_depth: u64,
    /// Writes delivered to the L2 by the write-behind thread.
    pub queue_delivered: u64,
    /// Write-behind deliveries retried after an L2 error.
    pub queue_retries: u64,
    /// Queued writes given up when the cache was dropped without `close()`.
    pub queue_abandoned: u64,
    /// Invalidation broadcasts that could not be published (Redis unreachable).
    pub broadcast_errors: u64,
    /// Queued writes the L2 refused as bad input (over its value size limit): never retried.
    pub queue_refused: u64,
    /// L1 evictions queued for the L2 (write-on-eviction).
    pub evictions_written: u64,
    /// L1 evictions that could not be queued within `write_timeout` (lost from both tiers).
    pub evictions_dropped: u64,
    /// Median L2 call latency in nanoseconds (0 before the first call).
    pub l2_latency_p50_ns: u64,
    /// 99th percentile L2 call latency in nanoseconds.
    pub l2_latency_p99_ns: u64,
    /// Median loader latency in nanoseconds.
    pub load_latency_p50_ns: u64,
    /// 99th percentile loader latency in nanoseconds.
    pub load_latency_p99_ns: u64,
}

impl TieredStats {
    /// Hits over lookups for the L2 (0 before any lookup).
    ///
    /// ```
    /// assert_eq!(pool_cache::TieredStats::default().l2_hit_ratio(), 0.0);
    /// ```
    #[must_use]
    pub fn l2_hit_ratio(&self) -> f64 {
        let total = self.l2_hits + self.l2_misses;
        if total == 0 { 0.0 } else { self.l2_hits as f64 / total as f64 }
    }
}

/// The live counters.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) l2_hits: AtomicU64,
    pub(crate) l2_misses: AtomicU64,
    pub(crate) l2_errors: AtomicU64,
    pub(crate) l2_decode_errors: AtomicU64,
    pub(crate) l2_bytes_read: AtomicU64,
    pub(crate) l2_bytes_written: AtomicU64,
    pub(crate) loads: AtomicU64,
    pub(crate) load_errors: AtomicU64,
    pub(crate) queue_delivered: AtomicU64,
    pub(crate) queue_retries: AtomicU64,
    pub(crate) queue_abandoned: AtomicU64,
    pub(crate) queue_refused: AtomicU64,
    pub(crate) broadcast_errors: AtomicU64,
    pub(crate) evictions_written: AtomicU64,
    pub(crate) evictions_dropped: AtomicU64,
    pub(crate) l2_latency: Histogram,
    pub(crate) load_latency: Histogram,
}

pub(crate) fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

impl Counters {
    pub(crate) fn snapshot(&self, l1: CacheStats, queue_depth: u64) -> TieredStats {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let q = |h: &Histogram, q: f64| if h.count() == 0 { 0 } else { h.quantile(q) };
        TieredStats {
            l1,
            l2_hits: g(&self.l2_hits),
            l2_misses: g(&self.l2_misses),
            l2_errors: g(&self.l2_errors),
            l2_decode_errors: g(&self.l2_decode_errors),
            l2_bytes_read: g(&self.l2_bytes_read),
            l2_bytes_written: g(&self.l2_bytes_written),
            loads: g(&self.loads),
            load_errors: g(&self.load_errors),
            queue_depth,
            queue_delivered: g(&self.queue_delivered),
            queue_retries: g(&self.queue_retries),
            queue_abandoned: g(&self.queue_abandoned),
            queue_refused: g(&self.queue_refused),
            broadcast_errors: g(&self.broadcast_errors),
            evictions_written: g(&self.evictions_written),
            evictions_dropped: g(&self.evictions_dropped),
            l2_latency_p50_ns: q(&self.l2_latency, 0.5),
            l2_latency_p99_ns: q(&self.l2_latency, 0.99),
            load_latency_p50_ns: q(&self.load_latency, 0.5),
            load_latency_p99_ns: q(&self.load_latency, 0.99),
        }
    }
}

/// Publishes `now` (deltas against `last` for counters) under `cache=<name>`.
pub(crate) fn export(
    registry: &Registry,
    name: &str,
    now: &TieredStats,
    last: &TieredStats,
) -> Result<(), RegistryError> {
    let label = [("cache", name)];
    let counters: [(&str, u64, u64); 15] = [
        ("tiered_broadcast_errors_total", now.broadcast_errors, last.broadcast_errors),
        ("tiered_queue_refused_total", now.queue_refused, last.queue_refused),
        ("tiered_l2_hits_total", now.l2_hits, last.l2_hits),
        ("tiered_l2_misses_total", now.l2_misses, last.l2_misses),
        ("tiered_l2_errors_total", now.l2_errors, last.l2_errors),
        ("tiered_l2_decode_errors_total", now.l2_decode_errors, last.l2_decode_errors),
        ("tiered_l2_read_bytes_total", now.l2_bytes_read, last.l2_bytes_read),
        ("tiered_l2_written_bytes_total", now.l2_bytes_written, last.l2_bytes_written),
        ("tiered_loads_total", now.loads, last.loads),
        ("tiered_load_errors_total", now.load_errors, last.load_errors),
        ("tiered_queue_delivered_total", now.queue_delivered, last.queue_delivered),
        ("tiered_queue_retries_total", now.queue_retries, last.queue_retries),
        ("tiered_queue_abandoned_total", now.queue_abandoned, last.queue_abandoned),
        ("tiered_evictions_written_total", now.evictions_written, last.evictions_written),
        ("tiered_evictions_dropped_total", now.evictions_dropped, last.evictions_dropped),
    ];
    for (metric, current, before) in counters {
        registry.counter(metric, &label)?.add(current.saturating_sub(before));
    }
    let gauges: [(&str, u64); 5] = [
        ("tiered_queue_depth", now.queue_depth),
        ("tiered_l2_latency_p50_ns", now.l2_latency_p50_ns),
        ("tiered_l2_latency_p99_ns", now.l2_latency_p99_ns),
        ("tiered_load_latency_p50_ns", now.load_latency_p50_ns),
        ("tiered_load_latency_p99_ns", now.load_latency_p99_ns),
    ];
    for (metric, value) in gauges {
        registry.gauge(metric, &label)?.set(i64::try_from(value).unwrap_or(i64::MAX));
    }
    Ok(())
}
