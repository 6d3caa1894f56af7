//! Hit, miss, insert and removal counters.
//!
//! Hits and misses are counted on the read path, so they go to per-thread stripes of each shard:
//! each thread increments its own cache-padded counter and two threads never write the same
//! line (a single shared counter made 2-thread hits slower than 1-thread ones).
//! Everything else happens under the shard's write lock and is a plain `u64` there.

use super::read_buffer::ReadBuffer;
use crate::lock::Exclusive;
use crate::sync::{AtomicU64, Ordering};

/// Why an entry left the cache, as told to the removal listener.
///
/// ```
/// use pool_cache::{Cache, RemovalCause};
/// use std::sync::{Arc, Mutex};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = seen.clone();
/// let cache: Cache<u64, u64> = Cache::builder(10)
///     .removal_listener(move |k, _v, cause| log.lock().unwrap().push((k, cause)))
///     .build()?;
/// cache.insert(1, 1);
/// cache.insert(1, 2);
/// cache.remove(&1);
/// assert_eq!(*seen.lock().unwrap(), vec![(1, RemovalCause::Replaced), (1, RemovalCause::Explicit)]);
/// # Ok::<(), pool_cache::BuildError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RemovalCause {
    /// Evicted to stay within the capacity (including a new entry TinyLFU declined to admit).
    Size,
    /// Its time-to-live, time-to-idle or per-entry deadline passed.
    Expired,
    /// Removed by `remove`, `invalidate*`, `retain` or a namespace bump.
    Explicit,
    /// Its value was overwritten by an `insert` of the same key.
    Replaced,
    /// Never stored: heavier on its own than the capacity it had to fit in.
    Rejected,
}

impl RemovalCause {
    /// Whether the cache removed the entry on its own (size or expiry) rather than on request.
    ///
    /// ```
    /// use pool_cache::RemovalCause;
    ///
    /// assert!(RemovalCause::Size.was_evicted());
    /// assert!(!RemovalCause::Explicit.was_evicted());
    /// ```
    #[must_use]
    pub fn was_evicted(self) -> bool {
        matches!(self, RemovalCause::Size | RemovalCause::Expired | RemovalCause::Rejected)
    }
}

/// A snapshot of a cache's counters, from [`Cache::stats`](crate::Cache::stats).
///
/// ```
/// use pool_cache::Cache;
///
/// let cache: Cache<u64, u64> = Cache::builder(10).build()?;
/// cache.insert(1, 1);
/// assert_eq!(cache.get(&1), Some(1));
/// assert_eq!(cache.get(&2), None);
/// let s = cache.stats();
/// assert_eq!((s.hits, s.misses, s.inserts), (1, 1, 1));
/// assert_eq!(s.hit_ratio(), 0.5);
/// # Ok::<(), pool_cache::BuildError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Lookups that found a live entry.
    pub hits: u64,
    /// Lookups that found nothing (or only an expired entry).
    pub misses: u64,
    /// New entries stored (not counting replacements).
    pub inserts: u64,
    /// Values overwritten in place.
    pub replacements: u64,
    /// Entries evicted for size, including admission rejections.
    pub evictions: u64,
    /// New entries W-TinyLFU declined in favour of a more frequent resident (part of `evictions`).
    pub admission_rejections: u64,
    /// Entries refused because they alone outweigh their shard's capacity.
    pub too_heavy: u64,
    /// Entries removed because they expired.
    pub expirations: u64,
    /// Entries removed on request (`remove`, invalidation, `retain`, namespace bumps).
    pub explicit_removals: u64,
}

impl CacheStats {
    /// `hits / (hits + misses)`, or 0 before the first lookup.
    ///
    /// ```
    /// use pool_cache::CacheStats;
    ///
    /// assert_eq!(CacheStats::default().hit_ratio(), 0.0);
    /// ```
    #[must_use]
    pub fn hit_ratio(&self) -> f64 {
        let total = self.hits + self.misses;
        if total == 0 { 0.0 } else { self.hits as f64 / total as f64 }
    }

    pub(crate) fn add(&mut self, o: &CacheStats) {
        self.hits += o.hits;
        self.misses += o.misses;
        self.inserts += o.inserts;
        self.replacements += o.replacements;
        self.evictions += o.evictions;
        self.admission_rejections += o.admission_rejections;
        self.too_heavy += o.too_heavy;
        self.expirations += o.expirations;
        self.explicit_removals += o.explicit_removals;
    }
}

/// One thread stripe's hit and miss counters in a shard (the payload of the shard lock's
/// stripes, `src/lock.rs`, so a hit writes the one line its read lock already wrote). A
/// thread that owns its stripe adds with a plain load and store instead of a locked add
/// (measured: the `lock xadd` was 15% of a hit); others add atomically. Exact either way.
/// The same line holds the thread's buffer of hits for LRU and LFU (`read_buffer.rs`).
#[derive(Debug, Default)]
pub(crate) struct Stripe {
    hits: AtomicU64,
    misses: AtomicU64,
    pub(crate) reads: ReadBuffer,
}

// The stripe (this, after the lock's reader count) fits the 128-byte padding every stripe gets
// anyway: the read buffer costs no memory. (Shuttle's atomics are bigger.)
#[cfg(not(shuttle))]
const _: () = assert!(std::mem::size_of::<Stripe>() + std::mem::size_of::<usize>() <= 128);

impl Stripe {
    #[inline]
    fn add(c: &AtomicU64, exclusive: Exclusive) {
        match exclusive {
            // Only this thread writes here: a reader may see the old or the new value, and no
            // update is lost.
            Exclusive::Yes => c.store(c.load(Ordering::Relaxed) + 1, Ordering::Relaxed),
            Exclusive::No => {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    #[inline]
    pub(crate) fn hit(&self, exclusive: Exclusive) {
        Self::add(&self.hits, exclusive);
    }

    #[inline]
    pub(crate) fn miss(&self, exclusive: Exclusive) {
        Self::add(&self.misses, exclusive);
    }

    pub(crate) fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    pub(crate) fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }
}
