//! Replaying a key stream through a [`SimCache`], on one thread or several sharing the cache.

use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use indicatif::ProgressBar;

use super::SimCache;

/// Requests per chunk when a replay is split over threads (the `cachesim` contract): chunk `i`
/// goes to thread `i % threads`.
pub const CHUNK: usize = 1024;

/// Counts from one replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayStats {
    /// Requests replayed.
    pub requests: u64,
    /// Requests whose `get` found the key.
    pub hits: u64,
    /// Wall time of the replay itself.
    pub elapsed: Duration,
}

impl ReplayStats {
    /// `hits / requests`, or 0 for an empty replay.
    ///
    /// ```
    /// use pool_benches::sim::ReplayStats;
    /// let s = ReplayStats { requests: 8, hits: 2, elapsed: Default::default() };
    /// assert_eq!(s.hit_ratio(), 0.25);
    /// ```
    pub fn hit_ratio(&self) -> f64 {
        if self.requests == 0 { 0.0 } else { self.hits as f64 / self.requests as f64 }
    }

    /// Millions of requests per second of wall time (requests per microsecond).
    ///
    /// ```
    /// use pool_benches::sim::ReplayStats;
    /// use std::time::Duration;
    /// let s = ReplayStats { requests: 3_000_000, hits: 0, elapsed: Duration::from_millis(500) };
    /// assert_eq!(s.mops(), 6.0);
    /// ```
    pub fn mops(&self) -> f64 {
        let micros = self.elapsed.as_secs_f64() * 1e6;
        if micros > 0.0 { self.requests as f64 / micros } else { 0.0 }
    }
}

/// Replays `keys` through `cache`: for each key `get`, and on a miss `insert(key, key)`.
///
/// With `threads > 1` the stream is cut into [`CHUNK`]-request chunks dealt round-robin to
/// `threads` scoped threads that share `cache`; the order in which requests from different
/// threads reach the cache is then up to the scheduler, so hit counts may vary a little between
/// runs. `progress`, when given, advances by each chunk replayed.
///
/// ```
/// use pool_benches::sim::{replay, FifoCache};
/// use std::num::NonZeroUsize;
///
/// let cache = FifoCache::new(NonZeroUsize::new(10).unwrap());
/// let keys: Vec<u64> = (0..5000).map(|i| i % 8).collect();
/// let stats = replay(&cache, &keys, NonZeroUsize::new(2).unwrap(), None);
/// assert_eq!(stats.requests, 5000);
/// assert_eq!(stats.hits, 5000 - 8); // only the first touch of each key misses
/// ```
pub fn replay<C: SimCache + ?Sized>(
    cache: &C,
    keys: &[u64],
    threads: NonZeroUsize,
    progress: Option<&ProgressBar>,
) -> ReplayStats {
    let threads = threads.get();
    let start = Instant::now();
    let hits = if threads == 1 {
        run_chunks(cache, keys.chunks(CHUNK), progress)
    } else {
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|id| {
                    let chunks = keys.chunks(CHUNK).skip(id).step_by(threads);
                    scope.spawn(move || run_chunks(cache, chunks, progress))
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .sum()
        })
    };
    ReplayStats { requests: keys.len() as u64, hits, elapsed: start.elapsed() }
}

fn run_chunks<'k, C: SimCache + ?Sized>(
    cache: &C,
    chunks: impl Iterator<Item = &'k [u64]>,
    progress: Option<&ProgressBar>,
) -> u64 {
    let mut hits = 0;
    for chunk in chunks {
        for &key in chunk {
            if cache.get(key) {
                hits += 1;
            } else {
                cache.insert(key);
            }
        }
        if let Some(bar) = progress {
            bar.inc(chunk.len() as u64);
        }
    }
    hits
}
