//! Our cache (`pool-cache`) behind [`SimCache`].

use std::num::NonZeroUsize;

use super::{SimCache, SimError, SimPolicy};

/// `pool_cache::Cache<u64, u64>` configured for [`SimPolicy::Lru`], [`SimPolicy::Lfu`] or
/// [`SimPolicy::TinyLfu`].
#[derive(Debug)]
pub struct PoolCacheSim {
    _private: (),
}

impl PoolCacheSim {
    /// Builds our cache for `policy` (one of `lru`, `lfu`, `tinylfu`) with room for `capacity`.
    ///
    /// # Errors
    ///
    /// A [`SimError`] if the policy is not one of ours or the builder refuses the configuration.
    pub fn new(policy: SimPolicy, capacity: NonZeroUsize) -> Result<Self, SimError> {
        Err(SimError::new(policy, capacity.get(), "pool-cache does not offer its cache API yet"))
    }
}

impl SimCache for PoolCacheSim {
    fn get(&self, _key: u64) -> bool {
        false
    }

    fn insert(&self, _key: u64) {}
}
