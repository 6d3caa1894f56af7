//! The memo layer: the computation memoized by `pool_cache::CachedPool`, which keeps its
//! results in a `TieredCache` (a W-TinyLFU L1 in front of the run's L2) and computes a miss in
//! both on the compute pool, once per key in this process, and once per key across processes
//! sharing a Redis L2 (through its compute leases).

use std::sync::Arc;

use pool_cache::{CachedPool, CachedPoolStats, Traced};
use pool_core::ComputePool;
use pool_metrics::{Profiler, Section};

use super::store::{L2Store, LEASE_TTL};
use super::workload::{Digest, WORK_ROUNDS, compute};

/// The name the results are kept under in the L2 (with [`WORK_ROUNDS`] as the version:
/// change the work, and old results are not read as its results).
pub const MEMO_NAME: &str = "pipeline";

/// The memo layer (see the module docs).
#[derive(Debug, Clone)]
pub struct Memo {
    pool: CachedPool<u64, Digest>,
}

/// A request that got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoError(pub String);

impl Memo {
    /// An L1 of `capacity` entries over `store`'s L2, computing on `pool`; with `fresh`, this
    /// run's results are first deleted from a shared L2 (a redb file is deleted by
    /// [`L2Store::disk`] instead). The computation's time goes to `profiler`.
    ///
    /// # Errors
    ///
    /// A zero capacity, or `fresh` and a shared L2 that could not delete the old results.
    pub fn new(
        capacity: u64,
        store: &L2Store,
        pool: ComputePool,
        profiler: &Profiler,
        fresh: bool,
    ) -> anyhow::Result<Self> {
        let computing: Arc<Section> = profiler.section("compute (on a pool worker)");
        let mut builder =
            CachedPool::builder(pool, MEMO_NAME, move |key: &u64| computing.time(|| compute(*key)))
                .version(WORK_ROUNDS)
                .capacity(capacity)
                // Longer than one computation, short enough that a process killed while holding a
                // lease delays the others this long at most.
                .lease_ttl(LEASE_TTL)
                .max_wait(2 * LEASE_TTL)
                // A redb file is locked to one process: no one to share a lease with.
                .leases(store.shared());
        if let Some(l2) = store.l2() {
            builder = builder.shared_l2(l2);
        }
        if let Some(timeout) = store.timeout() {
            builder = builder.l2_timeout(timeout);
        }
        let pool = builder.build()?;
        if fresh && store.shared() {
            match pool.forget_all() {
                Ok(()) => {}
                // A server that was down at the start keeps its old results: they are right
                // (the work is deterministic), the run is just not quite cold there.
                Err(e) if !store.unreachable().is_empty() => {
                    eprintln!("warning: --fresh could not reach every L2 server: {e}");
                }
                Err(e) => anyhow::bail!("--fresh: cannot delete the pipeline's results: {e}"),
            }
        }
        Ok(Self { pool })
    }

    /// The answer for `key`: the digest, where it came from, and what computing it cost.
    ///
    /// # Errors
    ///
    /// [`MemoError`] when the pool refuses the task or the task panics; an L2 that fails is
    /// not an error (the value is computed instead, and the failure counted).
    pub fn call(&self, key: u64) -> Result<Traced<Digest>, MemoError> {
        self.pool.call_traced(&key).map_err(|e| MemoError(e.to_string()))
    }

    /// The memoizing pool's counters (lease waits, L2 errors of the lease protocol, ...).
    #[must_use]
    pub fn stats(&self) -> CachedPoolStats {
        self.pool.stats()
    }

    /// The tiered cache's counters (undecodable L2 records, L2 latency, ...).
    #[must_use]
    pub fn cache_stats(&self) -> pool_cache::TieredStats {
        self.pool.cache_stats()
    }
}

impl std::fmt::Display for MemoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MemoError {}
