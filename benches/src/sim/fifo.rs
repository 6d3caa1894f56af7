//! A first-in, first-out cache: the simplest baseline a real policy must beat.

use std::collections::{HashSet, VecDeque};
use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};

use super::SimCache;

/// FIFO eviction behind one mutex: a hit changes nothing; an insert into a full cache evicts the
/// key that was inserted longest ago.
///
/// ```
/// use pool_benches::sim::{FifoCache, SimCache};
/// use std::num::NonZeroUsize;
///
/// let cache = FifoCache::new(NonZeroUsize::new(2).unwrap());
/// cache.insert(1);
/// cache.insert(2);
/// assert!(cache.get(1)); // a hit does not refresh 1 ...
/// cache.insert(3); // ... so 1, the oldest, goes
/// assert!(!cache.get(1));
/// assert!(cache.get(2) && cache.get(3));
/// ```
#[derive(Debug)]
pub struct FifoCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    resident: HashSet<u64>,
    order: VecDeque<u64>,
}

impl FifoCache {
    /// An empty cache holding at most `capacity` keys.
    pub fn new(capacity: NonZeroUsize) -> Self {
        Self { capacity: capacity.get(), inner: Mutex::new(Inner::default()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic in another replay thread cannot leave `Inner` half-updated in a way that matters
        // for a hit count, so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl SimCache for FifoCache {
    fn get(&self, key: u64) -> bool {
        self.lock().resident.contains(&key)
    }

    fn insert(&self, key: u64) {
        let mut inner = self.lock();
        if !inner.resident.insert(key) {
            return;
        }
        inner.order.push_back(key);
        if inner.order.len() > self.capacity
            && let Some(old) = inner.order.pop_front()
        {
            inner.resident.remove(&old);
        }
    }
}
