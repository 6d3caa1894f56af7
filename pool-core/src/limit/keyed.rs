//! `KeyedRateLimiter`: one GCRA budget per key (per client), in bounded memory.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash};

use crate::limit::rate::{RateLimited, TimeSource, gcra_step};
use crate::sync::{Mutex, lock};
use std::sync::Arc;

/// Shards cut lock contention between clients; 16 is enough for the two to sixteen cores this
/// crate targets and keeps the per-shard key budget large.
///
/// Hand-rolled rather than a `DashMap` (the workspace's sharded map, which `SingleFlight` uses):
/// the memory bound is enforced per shard, under the shard's lock, by reading that shard's
/// length and, when it is full, sweeping only that shard for expired keys. DashMap's public API
/// offers neither: its `len` locks every shard and its `retain` sweeps the whole map, so a full
/// limiter would pay O(`max_keys`) instead of O(`max_keys` / 16) for each new client it refuses.
/// That is an argument from the API, not a measurement; no benchmark compares the two yet.
const SHARDS: usize = 16;

/// A rate limiter with an independent budget per key, remembering at most `max_keys` keys.
///
/// A key whose theoretical arrival time has passed has a full burst again, which is exactly what
/// an unknown key gets; such idle keys are forgotten when a shard fills up (or on
/// [`KeyedRateLimiter::retain_recent`]), so expiring them never changes a decision. If a shard is
/// still full of *active* keys, a new key is refused ([`KeyedRateLimitError::TooManyKeys`]) rather
/// than evicting an active one, which would hand that client a fresh burst.
///
/// # Examples
///
/// ```
/// use pool_core::RateLimiter;
///
/// let per_client = RateLimiter::builder().per_second(2.0).build_keyed::<&str>(10_000).unwrap();
/// assert!(per_client.check(&"alice").is_ok());
/// assert!(per_client.check(&"alice").is_ok());
/// assert!(per_client.check(&"alice").is_err());
/// assert!(per_client.check(&"bob").is_ok());
/// ```
///
/// A cheap handle: clones share one set of budgets (one `Arc`).
pub struct KeyedRateLimiter<K> {
    shards: Arc<[Mutex<HashMap<K, u64>>]>,
    hasher: RandomState,
    per_shard: usize,
    interval: u64,
    tolerance: u64,
    burst: u32,
    clock: TimeSource,
}

impl<K> Clone for KeyedRateLimiter<K> {
    fn clone(&self) -> Self {
        Self {
            shards: Arc::clone(&self.shards),
            hasher: self.hasher.clone(),
            per_shard: self.per_shard,
            interval: self.interval,
            tolerance: self.tolerance,
            burst: self.burst,
            clock: self.clock.clone(),
        }
    }
}

impl<K> fmt::Debug for KeyedRateLimiter<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedRateLimiter")
            .field("interval_nanos", &self.interval)
            .field("burst", &self.burst)
            .field("max_keys", &(self.per_shard * SHARDS))
            .finish_non_exhaustive()
    }
}

/// Why a keyed check refused.
///
/// # Examples
///
/// ```
/// use pool_core::{KeyedRateLimitError, RateLimiter};
/// let l = RateLimiter::builder().per_second(1.0).build_keyed::<u8>(16).unwrap();
/// l.check(&1).unwrap();
/// assert!(matches!(l.check(&1), Err(KeyedRateLimitError::RateLimited(_))));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyedRateLimitError {
    /// This key's budget is spent.
    RateLimited(RateLimited),
    /// The key is new and its shard is full of keys that are still active; raise `max_keys`.
    TooManyKeys,
}

impl fmt::Display for KeyedRateLimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RateLimited(r) => r.fmt(f),
            Self::TooManyKeys => {
                f.write_str("too many active keys for this limiter; raise max_keys")
            }
        }
    }
}

impl std::error::Error for KeyedRateLimitError {}

impl<K: Hash + Eq + Clone> KeyedRateLimiter<K> {
    pub(crate) fn from_parts(
        interval: u64,
        burst: u32,
        max_keys: usize,
        clock: TimeSource,
    ) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            per_shard: max_keys.div_ceil(SHARDS).max(1),
            interval,
            tolerance: interval.saturating_mul(u64::from(burst)),
            burst,
            clock,
        }
    }

    fn shard(&self, key: &K) -> &Mutex<HashMap<K, u64>> {
        let i = (self.hasher.hash_one(key) % SHARDS as u64) as usize;
        &self.shards[i]
    }

    /// Admits one cell for `key`.
    ///
    /// # Errors
    ///
    /// [`KeyedRateLimitError::RateLimited`] when the key's budget is spent;
    /// [`KeyedRateLimitError::TooManyKeys`] when the key is new and no room is left.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pool_core::RateLimiter::builder().per_second(1.0).build_keyed::<u32>(100).unwrap();
    /// assert!(l.check(&1).is_ok());
    /// ```
    pub fn check(&self, key: &K) -> Result<(), KeyedRateLimitError> {
        let now = self.clock.now_nanos();
        let mut map = lock(self.shard(key));
        if let Some(tat) = map.get_mut(key) {
            return step(tat, now, self.interval, self.tolerance);
        }
        if map.len() >= self.per_shard {
            // Forgetting a key whose TAT has passed is exact: it would start with a full burst.
            map.retain(|_, tat| *tat > now);
            if map.len() >= self.per_shard {
                return Err(KeyedRateLimitError::TooManyKeys);
            }
        }
        let mut tat = 0;
        step(&mut tat, now, self.interval, self.tolerance)?;
        map.insert(key.clone(), tat);
        Ok(())
    }

    /// Forgets every key whose budget is full again; returns how many keys remain.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::{ManualClock, RateLimiter};
    /// let clock = ManualClock::new();
    /// let l = RateLimiter::builder().per_second(1.0).clock(clock.clone()).build_keyed::<u32>(100).unwrap();
    /// l.check(&1).unwrap();
    /// assert_eq!(l.len(), 1);
    /// clock.advance(std::time::Duration::from_secs(1));
    /// assert_eq!(l.retain_recent(), 0);
    /// ```
    pub fn retain_recent(&self) -> usize {
        let now = self.clock.now_nanos();
        self.shards
            .iter()
            .map(|s| {
                let mut map = lock(s);
                map.retain(|_, tat| *tat > now);
                map.len()
            })
            .sum()
    }

    /// How many keys are remembered now.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pool_core::RateLimiter::builder().build_keyed::<u32>(100).unwrap();
    /// assert_eq!(l.len(), 0);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    /// Whether no key is remembered.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pool_core::RateLimiter::builder().build_keyed::<u32>(100).unwrap();
    /// assert!(l.is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most keys this limiter remembers (rounded up to a multiple of the shard count).
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pool_core::RateLimiter::builder().build_keyed::<u32>(100).unwrap();
    /// assert!(l.max_keys() >= 100);
    /// ```
    #[must_use]
    pub fn max_keys(&self) -> usize {
        self.per_shard * SHARDS
    }
}

fn step(tat: &mut u64, now: u64, interval: u64, tolerance: u64) -> Result<(), KeyedRateLimitError> {
    let (next, ok) = gcra_step(*tat, now, interval, tolerance);
    if ok {
        *tat = next;
        Ok(())
    } else {
        Err(KeyedRateLimitError::RateLimited(RateLimited::new(std::time::Duration::from_nanos(
            next,
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ManualClock, RateLimiter};
    use std::time::Duration;

    #[test]
    fn memory_is_bounded_and_idle_keys_expire() {
        let clock = ManualClock::new();
        let l = RateLimiter::builder()
            .per_second(1.0)
            .burst(1)
            .clock(clock.clone())
            .build_keyed::<u32>(SHARDS)
            .unwrap();
        let mut refused = 0;
        for k in 0..1000u32 {
            if l.check(&k) == Err(KeyedRateLimitError::TooManyKeys) {
                refused += 1;
            }
        }
        assert!(l.len() <= l.max_keys());
        assert!(refused > 0);
        clock.advance(Duration::from_secs(1));
        // Every remembered key is idle now, so a new key fits again whatever its shard.
        assert_eq!(l.check(&5000), Ok(()));
        assert!(l.len() <= l.max_keys());
        assert_eq!(l.retain_recent(), 1, "only the new key is still active");
    }
}
