//! Counters every L2 backend keeps.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of an L2 backend since it was built ([`L2::stats`](crate::L2::stats)).
///
/// ```
/// use pool_cache::{L2, MemoryL2};
/// use std::time::Duration;
///
/// # futures::executor::block_on(async {
/// let l2 = MemoryL2::builder(1 << 20).max_value_size(4).build()?;
/// assert!(l2.set(b"k", b"too long", Duration::MAX).await.is_err());
/// assert_eq!(l2.stats().too_large, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct L2Stats {
    /// Records that failed their checksum or could not be parsed; each read as a miss.
    pub corrupt: u64,
    /// Writes refused because the value was over the size limit.
    pub too_large: u64,
    /// Calls that failed with `Unavailable`, `Timeout`, `Auth` or `Backend`.
    pub failures: u64,
    /// Records removed to keep the store under its byte bound.
    pub evicted: u64,
    /// Expired records reclaimed (DiskL2) or dropped on read.
    pub expired: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    corrupt: AtomicU64,
    too_large: AtomicU64,
    failures: AtomicU64,
    evicted: AtomicU64,
    expired: AtomicU64,
}

impl Counters {
    #[cfg_attr(not(feature = "disk"), allow(dead_code))]
    pub(crate) fn corrupt(&self) {
        self.corrupt.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn too_large(&self) {
        self.too_large.fetch_add(1, Ordering::Relaxed);
    }
    #[cfg_attr(not(any(feature = "disk", feature = "redis")), allow(dead_code))]
    pub(crate) fn failure(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn evicted(&self, n: u64) {
        self.evicted.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn expired(&self, n: u64) {
        self.expired.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn snapshot(&self) -> L2Stats {
        L2Stats {
            corrupt: self.corrupt.load(Ordering::Relaxed),
            too_large: self.too_large.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            evicted: self.evicted.load(Ordering::Relaxed),
            expired: self.expired.load(Ordering::Relaxed),
        }
    }
}
