//! The memo layer: the L1 in front of the L2 store, the computation on the compute pool on a
//! miss in both, one load per key at a time in this process.
//!
//! This is the shape `CachedPool` over `TieredCache` (issue 14) gives as a library type; until
//! it is in main the pipeline composes the same parts itself. Swapping it in replaces
//! [`Memo::call`]'s body and nothing around it.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use pool_cache::{Cache, Policy};
use pool_core::ComputePool;
use pool_metrics::{Profiler, Section};

use super::store::{L2Store, LEASE_TTL, Lease, Lookup, Record};
use super::workload::{Digest, compute};

/// Where a request's answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The L1 held it (or another request of this process was loading it and shared it).
    L1,
    /// The L2 held it: the computation was saved.
    L2,
    /// It was computed.
    Computed,
}

/// The memo layer (see the module docs).
#[derive(Debug)]
pub struct Memo {
    l1: Cache<u64, Record>,
    l2: Arc<L2Store>,
    pool: ComputePool,
    l2_reads: Arc<Section>,
    l2_writes: Arc<Section>,
    computing: Arc<Section>,
    token: u64,
    lease_waits: AtomicU64,
    lease_timeouts: AtomicU64,
}

/// A request that got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoError(pub String);

impl Memo {
    /// An L1 of `capacity` entries (W-TinyLFU) over `l2`, computing on `pool`; the time spent
    /// in the L2 and in the computation goes to `profiler`'s sections.
    ///
    /// # Errors
    ///
    /// The L1's build error (a zero capacity).
    pub fn new(
        capacity: u64,
        l2: Arc<L2Store>,
        pool: ComputePool,
        profiler: &Profiler,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            l1: Cache::builder(capacity).policy(Policy::TinyLfu).build()?,
            l2,
            pool,
            l2_reads: profiler.section("l2 reads"),
            l2_writes: profiler.section("l2 writes"),
            computing: profiler.section("compute (pool, incl. queue wait)"),
            // This process's lease token: random, so two processes never share one.
            token: rand::random(),
            lease_waits: AtomicU64::new(0),
            lease_timeouts: AtomicU64::new(0),
        })
    }

    /// The answer for `key`, where it came from, and what computing it cost (ns).
    ///
    /// # Errors
    ///
    /// [`MemoError`] when the pool refuses the task or the task panics; an L2 that fails is
    /// not an error (the value is computed instead, and the failure counted by the store).
    pub fn call(&self, key: u64) -> Result<(Digest, Outcome, u64), MemoError> {
        let outcome = Cell::new(Outcome::L1);
        let record = self.l1.try_get_or_insert_with(key, || {
            // This request leads the load of `key` in this process.
            let lookup = self.l2_reads.time(|| self.l2.get(key));
            if let Lookup::Hit(record) = lookup {
                outcome.set(Outcome::L2);
                return Ok(record);
            }
            // Shared L2: one process computes a key, the others wait for its result.
            let lease = self.l2.lease(key, self.token);
            if matches!(lease, Lease::Busy) {
                if let Some(record) = self.wait_for(key) {
                    outcome.set(Outcome::L2);
                    return Ok(record);
                }
                self.lease_timeouts.fetch_add(1, Relaxed);
            } else if matches!(lease, Lease::Held { .. })
                && let Lookup::Hit(record) = self.l2_reads.time(|| self.l2.get(key))
            {
                // Another process wrote it and released its lease between the miss above and
                // this lease: read it again rather than compute it twice.
                self.l2.release(key, &lease);
                outcome.set(Outcome::L2);
                return Ok(record);
            }
            outcome.set(Outcome::Computed);
            let record = self.computing.time(|| {
                let task = self.pool.submit(move || {
                    let start = Instant::now();
                    let digest = compute(key);
                    Record { digest, compute_nanos: start.elapsed().as_nanos() as u64 }
                });
                task.map_err(|e| MemoError(format!("the compute pool refused the task: {e}")))?
                    .join()
                    .map_err(|e| MemoError(format!("the computation failed: {e}")))
            })?;
            if self.l2.kind() != super::L2Kind::Unavailable {
                self.l2_writes.time(|| self.l2.set(key, &record));
            }
            self.l2.release(key, &lease);
            Ok(record)
        })?;
        Ok((record.digest, outcome.get(), record.compute_nanos))
    }

    /// Polls the L2 for `key` while another process computes it, with a backoff from 1 ms
    /// to 50 ms, for at most [`LEASE_TTL`] (then this process computes it itself).
    fn wait_for(&self, key: u64) -> Option<Record> {
        self.lease_waits.fetch_add(1, Relaxed);
        let deadline = Instant::now() + LEASE_TTL;
        let mut pause = Duration::from_millis(1);
        while Instant::now() < deadline {
            std::thread::sleep(pause);
            if let Lookup::Hit(r) = self.l2_reads.time(|| self.l2.get(key)) {
                return Some(r);
            }
            pause = (pause * 2).min(Duration::from_millis(50));
        }
        None
    }

    /// Requests that waited for another process's computation, and those that gave up
    /// waiting when its lease ran out.
    #[must_use]
    pub fn lease_stats(&self) -> (u64, u64) {
        (self.lease_waits.load(Relaxed), self.lease_timeouts.load(Relaxed))
    }

    /// The L1's statistics.
    #[must_use]
    pub fn l1_stats(&self) -> pool_cache::CacheStats {
        self.l1.stats()
    }
}

impl std::fmt::Display for MemoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MemoError {}
