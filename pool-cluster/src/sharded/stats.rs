//! [`ShardedStats`]: what the sharding layer itself did (repairs, fallbacks, copies).

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of a [`ShardedL2`](super::ShardedL2) beyond the nodes' own
/// ([`L2::stats`](pool_cache::L2::stats) sums those).
///
/// ```
/// use pool_cluster::ShardedL2;
/// use pool_cache::MemoryL2;
/// let l2 = ShardedL2::builder().node("a", MemoryL2::new(1 << 20)?).build()?;
/// assert_eq!(l2.sharded_stats().repairs, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShardedStats {
    /// Values copied back onto an owner that missed them (read-repair and lazy rebalancing).
    pub repairs: u64,
    /// Repairs that failed (the value stays readable from where it was found).
    pub repair_failures: u64,
    /// Reads answered by a key's owner in the ring before the last join (lazy rebalancing).
    pub previous_owner_hits: u64,
    /// Replica writes that failed while another replica stored the value.
    pub replica_write_failures: u64,
    /// Calls not sent because the node's breaker was open.
    pub breaker_rejections: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) repairs: AtomicU64,
    pub(crate) repair_failures: AtomicU64,
    pub(crate) previous_owner_hits: AtomicU64,
    pub(crate) replica_write_failures: AtomicU64,
    pub(crate) breaker_rejections: AtomicU64,
}

pub(crate) fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

impl Counters {
    pub(crate) fn snapshot(&self) -> ShardedStats {
        let l = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ShardedStats {
            repairs: l(&self.repairs),
            repair_failures: l(&self.repair_failures),
            previous_owner_hits: l(&self.previous_owner_hits),
            replica_write_failures: l(&self.replica_write_failures),
            breaker_rejections: l(&self.breaker_rejections),
        }
    }
}
