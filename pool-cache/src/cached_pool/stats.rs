//! [`CachedPoolStats`].

use std::time::Duration;

/// A snapshot of a [`CachedPool`](crate::CachedPool)'s counters.
///
/// ```
/// let pool = pool_core::ComputePool::new(1)?;
/// let memo = pool_cache::CachedPool::builder(pool, "square", |x: &u64| x * x).build()?;
/// memo.call(&3)?;
/// memo.call(&3)?;
/// let s = memo.stats();
/// assert_eq!((s.calls, s.computations, s.computations_saved, s.l1_hits), (2, 1, 1, 1));
/// assert_eq!(s.l1_hit_rate(), 0.5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct CachedPoolStats {
    /// Calls made.
    pub calls: u64,
    /// Calls answered by the L1.
    pub l1_hits: u64,
    /// Calls that found another call of this process getting the same input, waited, and
    /// shared its answer.
    pub shared: u64,
    /// Calls answered by the L2 (including values another process computed while this one
    /// waited on its lease).
    pub l2_hits: u64,
    /// Times this process ran the function.
    pub computations: u64,
    /// Calls that got their value without this process running the function.
    pub computations_saved: u64,
    /// The compute time those calls would have cost (as measured where each value was
    /// computed).
    pub compute_time_saved: Duration,
    /// Calls that found another process's lease and waited for its value.
    pub lease_waits: u64,
    /// Leases taken over after their holder's lease expired without a value.
    pub lease_takeovers: u64,
    /// Waits that ran out of time and computed here anyway.
    pub wait_timeouts: u64,
    /// L2 calls that failed or timed out: reads (then misses), writes, and the lease
    /// protocol's calls (the value is then computed here).
    pub l2_errors: u64,
}

impl CachedPoolStats {
    /// L1 hits over calls (0 before any call).
    ///
    /// ```
    /// assert_eq!(pool_cache::CachedPoolStats::default().l1_hit_rate(), 0.0);
    /// ```
    #[must_use]
    pub fn l1_hit_rate(&self) -> f64 {
        ratio(self.l1_hits, self.calls)
    }

    /// L2 hits over calls (0 before any call).
    ///
    /// ```
    /// assert_eq!(pool_cache::CachedPoolStats::default().l2_hit_rate(), 0.0);
    /// ```
    #[must_use]
    pub fn l2_hit_rate(&self) -> f64 {
        ratio(self.l2_hits, self.calls)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}
