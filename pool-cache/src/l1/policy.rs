//! The eviction policy chosen at build time, and the dispatch from a shard to it.

use super::lfu::Lfu;
use super::lru::Lru;
use super::tinylfu::TinyLfu;

/// Which entries a full cache evicts. See `src/l1/POLICY.md` for the design.
///
/// ```
/// use pool_cache::{Cache, Policy};
///
/// let cache: Cache<u64, u64> = Cache::builder(100).policy(Policy::Lru).build()?;
/// assert_eq!(cache.config().policy(), Policy::Lru);
/// assert_eq!(Policy::default(), Policy::TinyLfu);
/// # Ok::<(), pool_cache::BuildError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Policy {
    /// Least recently used, exact within a shard (`.shards(1)` makes it exact for the cache)
    /// for the hits of each thread. A hit takes only the shard's read lock and records the
    /// entry in its thread's buffer; the next write to the shard moves the buffered entries
    /// to the front, before it evicts anything. Hits of different threads that no write
    /// separates are applied thread by thread, not interleaved as they happened.
    Lru,
    /// Least frequently used in O(1): frequency buckets, ties broken by recency (the least
    /// recently used of the least frequent goes first). Counts never age.
    Lfu,
    /// W-TinyLFU as in Caffeine: an LRU admission window, a segmented main region
    /// (probation/protected), a count-min sketch with aging deciding which of the window's
    /// victim and the main region's victim stays, the window size tuned by hill climbing, and
    /// jittered admission against hash flooding. Where admission keeps rejecting keys that
    /// come back soon enough for LRU to have hit them (back-and-forth scans, short bursts), the
    /// whole capacity is tried as window for a while and kept only if it hits more. Hits take
    /// only the shard's read lock.
    #[default]
    TinyLfu,
}

impl Policy {
    /// The lowercase name (`"lru"`, `"lfu"`, `"tinylfu"`), as `cachesim --policy` spells it.
    ///
    /// ```
    /// use pool_cache::Policy;
    ///
    /// assert_eq!(Policy::TinyLfu.name(), "tinylfu");
    /// ```
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Policy::Lru => "lru",
            Policy::Lfu => "lfu",
            Policy::TinyLfu => "tinylfu",
        }
    }
}

impl std::str::FromStr for Policy {
    type Err = ParsePolicyError;

    /// Parses `lru`, `lfu` or `tinylfu` (case-insensitive; `w-tinylfu` also accepted).
    ///
    /// # Errors
    ///
    /// [`ParsePolicyError`] for any other name; its message lists the known ones.
    ///
    /// ```
    /// use pool_cache::Policy;
    ///
    /// assert_eq!("TinyLFU".parse::<Policy>()?, Policy::TinyLfu);
    /// assert!("arc".parse::<Policy>().is_err());
    /// # Ok::<(), pool_cache::ParsePolicyError>(())
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "lru" => Ok(Policy::Lru),
            "lfu" => Ok(Policy::Lfu),
            "tinylfu" | "w-tinylfu" | "wtinylfu" => Ok(Policy::TinyLfu),
            _ => Err(ParsePolicyError { name: s.to_owned() }),
        }
    }
}

impl std::fmt::Display for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown policy name given to [`Policy`]'s `FromStr`.
///
/// ```
/// use pool_cache::Policy;
///
/// let err = "clock".parse::<Policy>().unwrap_err();
/// assert_eq!(err.to_string(), "unknown policy \"clock\"; expected one of lru, lfu, tinylfu");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsePolicyError {
    name: String,
}

impl std::fmt::Display for ParsePolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown policy {:?}; expected one of lru, lfu, tinylfu", self.name)
    }
}

impl std::error::Error for ParsePolicyError {}

/// What a policy may ask about entries it does not own (weights live with the values, hashes
/// are recomputed from the keys rather than stored: 8 bytes an entry saved).
pub(crate) trait EntryInfo {
    fn weight(&self, idx: u32) -> u64;
    fn hash(&self, idx: u32) -> u64;
}

/// A victim chosen by [`PolicyState::evict`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Victim {
    pub(crate) idx: u32,
    /// TinyLFU refused to admit this (new) entry rather than evict a resident one.
    pub(crate) rejected: bool,
}

// One per shard, so its size does not matter; boxing TinyLfu would add a pointer chase to
// every hit.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum PolicyState {
    Lru(Lru),
    Lfu(Lfu),
    TinyLfu(TinyLfu),
}

impl PolicyState {
    /// `weighted`: the capacity is a total weight rather than an entry count.
    pub(crate) fn new(policy: Policy, capacity: u64, seed: u64, weighted: bool) -> Self {
        match policy {
            Policy::Lru => PolicyState::Lru(Lru::default()),
            Policy::Lfu => PolicyState::Lfu(Lfu::default()),
            Policy::TinyLfu => PolicyState::TinyLfu(TinyLfu::new(capacity, seed, weighted)),
        }
    }

    /// Whether a hit may be served under the shard's read lock ([`Self::touch_shared`]) rather
    /// than the write lock ([`Self::touch`]).
    #[inline]
    pub(crate) fn shared_hits(&self) -> bool {
        matches!(self, PolicyState::TinyLfu(_))
    }

    #[inline]
    pub(crate) fn touch_shared(&self, idx: u32) {
        if let PolicyState::TinyLfu(p) = self {
            p.touch_shared(idx);
        }
    }

    pub(crate) fn touch(&mut self, idx: u32) {
        match self {
            PolicyState::Lru(p) => p.touch(idx),
            PolicyState::Lfu(p) => p.touch(idx),
            PolicyState::TinyLfu(p) => p.touch_shared(idx),
        }
    }

    /// A new entry was appended at `idx` (the last index).
    pub(crate) fn push(&mut self, idx: u32, hash: u64, weight: u64) {
        match self {
            PolicyState::Lru(p) => p.push(idx),
            PolicyState::Lfu(p) => p.push(idx),
            PolicyState::TinyLfu(p) => p.push(idx, hash, weight),
        }
    }

    /// Grows the per-entry vectors exactly as the slab grows (see `ShardData::reserve_one`).
    pub(crate) fn reserve_exact(&mut self, extra: usize) {
        match self {
            PolicyState::Lru(p) => p.reserve_exact(extra),
            PolicyState::Lfu(p) => p.reserve_exact(extra),
            PolicyState::TinyLfu(p) => p.reserve_exact(extra),
        }
    }

    /// The value at `idx` was replaced; its weight went from `old` to `new`.
    pub(crate) fn update(&mut self, idx: u32, old: u64, new: u64) {
        match self {
            PolicyState::Lru(p) => p.touch(idx),
            PolicyState::Lfu(p) => p.touch(idx),
            PolicyState::TinyLfu(p) => p.update(idx, old, new),
        }
    }

    /// Forget entry `idx` before the slab `swap_remove`s it.
    pub(crate) fn remove(&mut self, idx: u32, info: &impl EntryInfo) {
        match self {
            PolicyState::Lru(p) => p.remove(idx),
            PolicyState::Lfu(p) => p.remove(idx),
            PolicyState::TinyLfu(p) => p.remove(idx, info),
        }
    }

    /// The next entry to evict from a shard over its capacity.
    pub(crate) fn evict(&mut self, info: &impl EntryInfo) -> Option<Victim> {
        match self {
            PolicyState::Lru(p) => p.victim().map(|idx| Victim { idx, rejected: false }),
            PolicyState::Lfu(p) => p.victim().map(|idx| Victim { idx, rejected: false }),
            PolicyState::TinyLfu(p) => p.evict(info),
        }
    }

    /// Hits served under the read lock since the last call, for aging and hill climbing.
    pub(crate) fn record_hits(&mut self, hits: u64) {
        if let PolicyState::TinyLfu(p) = self {
            p.record_hits(hits);
        }
    }

    pub(crate) fn set_capacity(&mut self, capacity: u64) {
        if let PolicyState::TinyLfu(p) = self {
            p.set_capacity(capacity);
        }
    }

    pub(crate) fn clear(&mut self) {
        match self {
            PolicyState::Lru(p) => *p = Lru::default(),
            PolicyState::Lfu(p) => *p = Lfu::default(),
            PolicyState::TinyLfu(p) => p.clear(),
        }
    }

    /// Entry indices in eviction order (next victim first), for tests and debugging.
    #[cfg(test)]
    pub(crate) fn eviction_order(&self) -> Vec<u32> {
        match self {
            PolicyState::Lru(p) => p.eviction_order(),
            PolicyState::Lfu(p) => p.eviction_order(),
            PolicyState::TinyLfu(p) => p.eviction_order(),
        }
    }

    /// The current window share, for [`crate::CacheConfig`]; `None` for non-TinyLFU policies.
    pub(crate) fn window_capacity(&self) -> Option<u64> {
        match self {
            PolicyState::TinyLfu(p) => Some(p.window_max()),
            _ => None,
        }
    }
}
