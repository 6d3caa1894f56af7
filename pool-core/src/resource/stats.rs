//! `ResourcePoolStats`: a snapshot of the pool's gauges and counters.

use pool_metrics::HistogramSnapshot;

use crate::resource::manager::DestroyReason;

/// A snapshot of a [`crate::ResourcePool`]. `size == idle + in_use` always holds in one snapshot.
///
/// # Examples
///
/// ```
/// # use pool_core::{Manager, ResourcePool};
/// # struct M; impl Manager for M { type Resource = (); type Error = String;
/// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
/// let pool = ResourcePool::new(M);
/// let conn = pool.get().unwrap();
/// let s = pool.stats();
/// assert_eq!((s.size, s.idle, s.in_use, s.created), (1, 0, 1, 1));
/// # drop(conn);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ResourcePoolStats {
    /// Resources alive plus those being created.
    pub size: usize,
    /// Resources waiting in the pool.
    pub idle: usize,
    /// Resources checked out, or being created for a caller.
    pub in_use: usize,
    /// Callers queued for a resource.
    pub waiting: usize,
    /// Resources created since the pool was built.
    pub created: u64,
    /// Calls to `Manager::create` that failed.
    pub create_errors: u64,
    /// Resources destroyed, by reason (see [`ResourcePoolStats::destroyed_for`]).
    pub destroyed: [u64; 6],
    /// Resources taken out with `detach`.
    pub detached: u64,
    /// `get` calls that timed out.
    pub timeouts: u64,
    /// Wait in `get` in nanoseconds (0 for a checkout served at once, without reading the clock).
    pub acquire_wait: HistogramSnapshot,
}

impl ResourcePoolStats {
    /// Resources destroyed for `reason`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pool_core::{DestroyReason, Manager, ResourcePool};
    /// # struct M; impl Manager for M { type Resource = (); type Error = String;
    /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
    /// let pool = ResourcePool::builder(M).max_uses(Some(1)).build().unwrap();
    /// drop(pool.get().unwrap());
    /// assert_eq!(pool.stats().destroyed_for(DestroyReason::MaxUses), 1);
    /// ```
    #[must_use]
    pub fn destroyed_for(&self, reason: DestroyReason) -> u64 {
        self.destroyed[reason.index()]
    }

    /// Resources destroyed for any reason.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pool_core::{Manager, ResourcePool};
    /// # struct M; impl Manager for M { type Resource = (); type Error = String;
    /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
    /// assert_eq!(ResourcePool::new(M).stats().destroyed_total(), 0);
    /// ```
    #[must_use]
    pub fn destroyed_total(&self) -> u64 {
        self.destroyed.iter().sum()
    }
}
