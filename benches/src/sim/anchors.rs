//! The anchor caches we compare against, behind [`SimCache`].

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};

use super::SimCache;

/// `moka::sync::Cache` with `max_capacity(capacity)`, left to its own housekeeping (so it may
/// hold a few more entries than `capacity` until its pending tasks run).
///
/// ```
/// use pool_benches::sim::{MokaSim, SimCache};
/// use std::num::NonZeroUsize;
///
/// let cache = MokaSim::new(NonZeroUsize::new(100).unwrap());
/// assert!(!cache.get(7));
/// cache.insert(7);
/// assert!(cache.get(7));
/// ```
pub struct MokaSim(moka::sync::Cache<u64, u64>);

impl MokaSim {
    /// A moka cache bounded to `capacity` entries.
    pub fn new(capacity: NonZeroUsize) -> Self {
        Self(moka::sync::Cache::new(capacity.get() as u64))
    }
}

impl fmt::Debug for MokaSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MokaSim")
            .field("max_capacity", &self.0.policy().max_capacity())
            .finish_non_exhaustive()
    }
}

impl SimCache for MokaSim {
    fn get(&self, key: u64) -> bool {
        self.0.get(&key).is_some()
    }

    fn insert(&self, key: u64) {
        self.0.insert(key, key);
    }
}

/// `quick_cache::sync::Cache::new(capacity)` (it rounds capacity up per shard: 250 holds 256).
///
/// ```
/// use pool_benches::sim::{QuickCacheSim, SimCache};
/// use std::num::NonZeroUsize;
///
/// let cache = QuickCacheSim::new(NonZeroUsize::new(100).unwrap());
/// cache.insert(7);
/// assert!(cache.get(7) && !cache.get(8));
/// ```
pub struct QuickCacheSim(quick_cache::sync::Cache<u64, u64>);

impl QuickCacheSim {
    /// A quick_cache cache of `capacity` items.
    pub fn new(capacity: NonZeroUsize) -> Self {
        Self(quick_cache::sync::Cache::new(capacity.get()))
    }
}

impl fmt::Debug for QuickCacheSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QuickCacheSim")
            .field("capacity", &self.0.capacity())
            .finish_non_exhaustive()
    }
}

impl SimCache for QuickCacheSim {
    fn get(&self, key: u64) -> bool {
        self.0.get(&key).is_some()
    }

    fn insert(&self, key: u64) {
        self.0.insert(key, key);
    }
}

/// `Mutex<lru::LruCache>`: exact LRU behind one lock, the usual way to share the `lru` crate.
///
/// ```
/// use pool_benches::sim::{LruCrateSim, SimCache};
/// use std::num::NonZeroUsize;
///
/// let cache = LruCrateSim::new(NonZeroUsize::new(2).unwrap());
/// cache.insert(1);
/// cache.insert(2);
/// assert!(cache.get(1));
/// cache.insert(3); // evicts 2, the least recently used
/// assert!(!cache.get(2));
/// ```
pub struct LruCrateSim(Mutex<lru::LruCache<u64, u64>>);

impl LruCrateSim {
    /// An `lru::LruCache` of `capacity` entries behind a mutex.
    pub fn new(capacity: NonZeroUsize) -> Self {
        Self(Mutex::new(lru::LruCache::new(capacity)))
    }
}

impl fmt::Debug for LruCrateSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cap = self.0.lock().unwrap_or_else(PoisonError::into_inner).cap();
        f.debug_struct("LruCrateSim").field("capacity", &cap).finish_non_exhaustive()
    }
}

impl SimCache for LruCrateSim {
    fn get(&self, key: u64) -> bool {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).get(&key).is_some()
    }

    fn insert(&self, key: u64) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).put(key, key);
    }
}
