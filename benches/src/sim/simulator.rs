//! One trace, many (policy, capacity, threads) runs.

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::OnceLock;
use std::time::Instant;

use indicatif::ProgressBar;

use super::belady::NextUse;
use super::{
    FifoCache, LruCrateSim, MokaSim, PoolCacheSim, QuickCacheSim, ReplayStats, SimPolicy, replay,
};

/// The result of one [`Simulator::run`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Run {
    /// The policy replayed.
    pub policy: SimPolicy,
    /// The capacity asked for (some anchors round it up; see [`QuickCacheSim`]).
    pub capacity: usize,
    /// Threads that shared the cache; always 1 for [`SimPolicy::Opt`], which is computed offline
    /// on the trace order.
    pub threads: usize,
    /// Requests, hits and wall time.
    pub stats: ReplayStats,
}

/// A cache that could not be built for a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimError {
    policy: SimPolicy,
    capacity: usize,
    reason: String,
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot build a {} cache of capacity {}: {}",
            self.policy, self.capacity, self.reason
        )
    }
}

impl std::error::Error for SimError {}

impl SimError {
    pub(crate) fn new(policy: SimPolicy, capacity: usize, reason: impl fmt::Display) -> Self {
        Self { policy, capacity, reason: reason.to_string() }
    }
}

/// Replays one trace through any policy; Belady's next-use table is computed on the first
/// [`SimPolicy::Opt`] run and reused for the other capacities.
///
/// ```
/// use pool_benches::sim::{SimPolicy, Simulator};
/// use std::num::NonZeroUsize;
///
/// let keys: Vec<u64> = (0..10_000).map(|i| (i * 31) % 500).collect();
/// let sim = Simulator::new(&keys);
/// let one = NonZeroUsize::new(1).unwrap();
/// let cap = NonZeroUsize::new(100).unwrap();
/// let opt = sim.run(SimPolicy::Opt, cap, one, None)?;
/// let fifo = sim.run(SimPolicy::Fifo, cap, one, None)?;
/// assert_eq!(opt.stats.requests, 10_000);
/// assert!(fifo.stats.hits <= opt.stats.hits);
/// # Ok::<(), pool_benches::sim::SimError>(())
/// ```
#[derive(Debug)]
pub struct Simulator<'a> {
    keys: &'a [u64],
    next_use: OnceLock<NextUse<'a>>,
    seed: Option<u64>,
}

impl<'a> Simulator<'a> {
    /// A simulator over `keys`, the requests in trace order.
    pub fn new(keys: &'a [u64]) -> Self {
        Self { keys, next_use: OnceLock::new(), seed: None }
    }

    /// Builds our caches with this fixed seed ([`pool_cache::CacheBuilder::seed`]), so that a
    /// single-threaded replay repeats exactly; by default each run draws a random one.
    ///
    /// ```
    /// use pool_benches::sim::{SimPolicy, Simulator};
    /// use std::num::NonZeroUsize;
    ///
    /// let keys: Vec<u64> = (0..20_000u64).map(|i| (i * i) % 3001).collect();
    /// let sim = Simulator::new(&keys).seed(Some(42));
    /// let one = NonZeroUsize::MIN;
    /// let cap = NonZeroUsize::new(600).unwrap();
    /// let a = sim.run(SimPolicy::TinyLfu, cap, one, None)?;
    /// let b = sim.run(SimPolicy::TinyLfu, cap, one, None)?;
    /// assert_eq!(a.stats.hits, b.stats.hits);
    /// # Ok::<(), pool_benches::sim::SimError>(())
    /// ```
    #[must_use]
    pub fn seed(mut self, seed: Option<u64>) -> Self {
        self.seed = seed;
        self
    }

    /// The trace's requests.
    pub fn keys(&self) -> &'a [u64] {
        self.keys
    }

    /// Replays the trace through a fresh `policy` cache of `capacity` shared by `threads`
    /// threads (see [`replay`]); `progress` advances as requests are replayed.
    ///
    /// # Errors
    ///
    /// A [`SimError`] if the cache refuses the configuration.
    pub fn run(
        &self,
        policy: SimPolicy,
        capacity: NonZeroUsize,
        threads: NonZeroUsize,
        progress: Option<&ProgressBar>,
    ) -> Result<Run, SimError> {
        let keys = self.keys;
        let (stats, threads) = match policy {
            SimPolicy::Opt => {
                let next_use = self.next_use.get_or_init(|| NextUse::new(keys));
                let start = Instant::now();
                let hits = next_use.hits(capacity);
                let stats =
                    ReplayStats { requests: keys.len() as u64, hits, elapsed: start.elapsed() };
                if let Some(bar) = progress {
                    bar.inc(keys.len() as u64);
                }
                (stats, 1)
            }
            SimPolicy::Fifo => {
                (replay(&FifoCache::new(capacity), keys, threads, progress), threads.get())
            }
            SimPolicy::Moka => {
                (replay(&MokaSim::new(capacity), keys, threads, progress), threads.get())
            }
            SimPolicy::QuickCache => {
                (replay(&QuickCacheSim::new(capacity), keys, threads, progress), threads.get())
            }
            SimPolicy::LruCrate => {
                (replay(&LruCrateSim::new(capacity), keys, threads, progress), threads.get())
            }
            SimPolicy::Lru | SimPolicy::Lfu | SimPolicy::TinyLfu => {
                let cache = PoolCacheSim::new(policy, capacity, self.seed)?;
                (replay(&cache, keys, threads, progress), threads.get())
            }
        };
        Ok(Run { policy, capacity: capacity.get(), threads, stats })
    }
}
