//! The `cachesim` simulator: policies, Belady's optimum, and trace replay.
//!
//! [`Simulator`] replays one trace through any [`SimPolicy`] at any capacity. The online
//! policies sit behind [`SimCache`] (`get` reports a hit; `insert` after a miss) and go through
//! [`replay`]; [`SimPolicy::Opt`] is computed offline by [`belady`].

pub mod belady;
pub mod synth;

mod anchors;
mod fifo;
mod ours;
mod plot;
mod policy;
mod replay;
mod simulator;

pub use anchors::{LruCrateSim, MokaSim, QuickCacheSim};
pub use fifo::FifoCache;
pub use ours::PoolCacheSim;
pub use plot::{PlotError, PlotPoint, plot_hit_ratios};
pub use policy::{SimPolicy, UnknownPolicy};
pub use replay::{CHUNK, ReplayStats, replay};
pub use simulator::{Run, SimError, Simulator};

/// A cache as a replay sees it: shared by reference across replay threads.
///
/// ```
/// use pool_benches::sim::{replay, SimCache};
/// use std::collections::HashSet;
/// use std::num::NonZeroUsize;
/// use std::sync::Mutex;
///
/// /// Never evicts: every key misses once.
/// struct Unbounded(Mutex<HashSet<u64>>);
/// impl SimCache for Unbounded {
///     fn get(&self, key: u64) -> bool { self.0.lock().unwrap().contains(&key) }
///     fn insert(&self, key: u64) { self.0.lock().unwrap().insert(key); }
/// }
///
/// let keys = [1, 2, 1, 3, 2, 1];
/// let stats = replay(&Unbounded(Mutex::default()), &keys, NonZeroUsize::MIN, None);
/// assert_eq!((stats.requests, stats.hits), (6, 3));
/// ```
pub trait SimCache: Sync {
    /// Looks `key` up; `true` on a hit.
    fn get(&self, key: u64) -> bool;
    /// Inserts `key` (with itself as the value) after a miss.
    fn insert(&self, key: u64);
}
