//! Our cache (`pool-cache`) behind [`SimCache`].

use std::fmt;
use std::num::NonZeroUsize;

use pool_cache::{Cache, Policy};

use super::{SimCache, SimError, SimPolicy};

/// `pool_cache::Cache<u64, u64>` configured for [`SimPolicy::Lru`], [`SimPolicy::Lfu`] or
/// [`SimPolicy::TinyLfu`].
///
/// `lru` is built with one shard, which makes it exact LRU (the figure the replay harness is
/// checked against: .3283 on OLTP @ 1000). `lfu` and `tinylfu` keep the builder's default
/// sharding, so they are measured as a user gets them; the default shard count depends on the
/// core count, but never leaves a shard with fewer than 256 entries.
///
/// ```
/// use pool_benches::sim::{PoolCacheSim, SimCache, SimPolicy};
/// use std::num::NonZeroUsize;
///
/// let cache = PoolCacheSim::new(SimPolicy::Lru, NonZeroUsize::new(2).unwrap(), None)?;
/// cache.insert(1);
/// cache.insert(2);
/// assert!(cache.get(1)); // 1 is now the most recent ...
/// cache.insert(3); // ... so 2 goes
/// assert!(!cache.get(2));
/// assert!(cache.get(1) && cache.get(3));
/// # Ok::<(), pool_benches::sim::SimError>(())
/// ```
pub struct PoolCacheSim {
    cache: Cache<u64, u64>,
}

impl PoolCacheSim {
    /// Builds our cache for `policy` (one of `lru`, `lfu`, `tinylfu`) with room for `capacity`,
    /// seeded with `seed` if given ([`pool_cache::CacheBuilder::seed`]).
    ///
    /// # Errors
    ///
    /// A [`SimError`] if the policy is not one of ours or the builder refuses the configuration.
    pub fn new(
        policy: SimPolicy,
        capacity: NonZeroUsize,
        seed: Option<u64>,
    ) -> Result<Self, SimError> {
        let fail = |reason: &dyn fmt::Display| SimError::new(policy, capacity.get(), reason);
        let builder = Cache::builder(capacity.get() as u64);
        let builder = match seed {
            Some(seed) => builder.seed(seed),
            None => builder,
        };
        let builder = match policy {
            SimPolicy::Lru => builder.policy(Policy::Lru).shards(1),
            SimPolicy::Lfu => builder.policy(Policy::Lfu),
            SimPolicy::TinyLfu => builder.policy(Policy::TinyLfu),
            _ => return Err(fail(&"not a pool-cache policy (lru, lfu, tinylfu)")),
        };
        let cache = builder.build().map_err(|e| fail(&e))?;
        Ok(Self { cache })
    }
}

impl fmt::Debug for PoolCacheSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolCacheSim").field("policy", &self.cache.config()).finish_non_exhaustive()
    }
}

impl SimCache for PoolCacheSim {
    fn get(&self, key: u64) -> bool {
        self.cache.get(&key).is_some()
    }

    fn insert(&self, key: u64) {
        self.cache.insert(key, key);
    }
}
