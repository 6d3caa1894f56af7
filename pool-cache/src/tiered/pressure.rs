//! Memory pressure, opt-in: an L1 that shrinks at High, sheds to its floor at Critical, and
//! gets its capacity back at Normal.

use super::cache::TieredCache;
use crate::l1::Cache;
use pool_metrics::{MemoryPressure, PressureLevel, Subscription};
use std::error::Error as StdError;
use std::fmt;
use std::hash::Hash;

/// How an L1 answers memory pressure: at [`PressureLevel::High`] its capacity becomes
/// `fraction` of the capacity it had when it subscribed; at [`PressureLevel::Critical`] it
/// sheds to its floor, one entry per shard (the least a sharded cache can hold); at
/// [`PressureLevel::Normal`] the capacity comes back. Never below the shard count.
///
/// ```
/// use pool_cache::{Cache, ShrinkOnPressure};
/// use pool_metrics::{MemoryPressure, PressureLevel};
///
/// let cache: Cache<u64, u64> = Cache::builder(1000).shards(4).build()?;
/// let pressure = MemoryPressure::new();
/// let _guard = cache.shrink_on_pressure(&pressure, ShrinkOnPressure::new(0.25)?);
/// pressure.set(PressureLevel::High);
/// assert_eq!(cache.config().capacity(), 250);
/// pressure.set(PressureLevel::Critical);
/// assert_eq!(cache.config().capacity(), 4);
/// pressure.set(PressureLevel::Normal);
/// assert_eq!(cache.config().capacity(), 1000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShrinkOnPressure {
    high_fraction: f64,
}

impl ShrinkOnPressure {
    /// Shrink to `high_fraction` of the capacity at High.
    ///
    /// # Errors
    ///
    /// [`PressureError`] unless `0 < high_fraction <= 1` (NaN included).
    ///
    /// ```
    /// assert!(pool_cache::ShrinkOnPressure::new(f64::NAN).is_err());
    /// assert!(pool_cache::ShrinkOnPressure::new(0.5).is_ok());
    /// ```
    pub fn new(high_fraction: f64) -> Result<Self, PressureError> {
        if high_fraction > 0.0 && high_fraction <= 1.0 {
            Ok(Self { high_fraction })
        } else {
            Err(PressureError { high_fraction })
        }
    }

    /// The fraction kept at High.
    ///
    /// ```
    /// assert_eq!(pool_cache::ShrinkOnPressure::new(0.5)?.high_fraction(), 0.5);
    /// # Ok::<(), pool_cache::PressureError>(())
    /// ```
    #[must_use]
    pub fn high_fraction(&self) -> f64 {
        self.high_fraction
    }

    /// The capacity for `level`, given the normal capacity and the floor.
    fn capacity(&self, level: PressureLevel, normal: u64, floor: u64) -> u64 {
        let target = match level {
            PressureLevel::Normal => normal,
            PressureLevel::High => (normal as f64 * self.high_fraction) as u64,
            _ => floor,
        };
        target.max(floor)
    }
}

/// A shrink fraction outside `(0, 1]`.
///
/// ```
/// let err = pool_cache::ShrinkOnPressure::new(1.5).unwrap_err();
/// assert_eq!(err.to_string(), "the high-pressure fraction must be in (0, 1], got 1.5");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PressureError {
    high_fraction: f64,
}

impl fmt::Display for PressureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the high-pressure fraction must be in (0, 1], got {}", self.high_fraction)
    }
}

impl StdError for PressureError {}

impl<K: Hash + Eq + Send + Sync + 'static, V: Send + Sync + 'static> Cache<K, V> {
    /// Resizes this cache as `pressure` changes level (see [`ShrinkOnPressure`]), starting
    /// with its level now. The normal capacity is the capacity at this call. Dropping the
    /// returned guard unsubscribes (the capacity stays where it is then); the subscription
    /// holds a handle to the cache until then.
    ///
    /// ```
    /// use pool_cache::{Cache, ShrinkOnPressure};
    /// use pool_metrics::{MemoryPressure, PressureLevel};
    ///
    /// let cache: Cache<u64, u64> = Cache::builder(100).shards(1).build()?;
    /// let pressure = MemoryPressure::new();
    /// let guard = cache.shrink_on_pressure(&pressure, ShrinkOnPressure::new(0.5)?);
    /// drop(guard);
    /// pressure.set(PressureLevel::High);
    /// assert_eq!(cache.config().capacity(), 100); // unsubscribed
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shrink_on_pressure(
        &self,
        pressure: &MemoryPressure,
        policy: ShrinkOnPressure,
    ) -> Subscription {
        let config = self.config();
        let (normal, floor) = (config.capacity(), config.shards() as u64);
        let cache = self.clone();
        let apply = move |level: PressureLevel| {
            cache.set_capacity(policy.capacity(level, normal, floor));
        };
        let now = pressure.level();
        if now != PressureLevel::Normal {
            apply(now);
        }
        pressure.subscribe(apply)
    }
}

impl<K, V> TieredCache<K, V>
where
    K: super::key::TieredKey,
    V: Clone + serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
{
    /// Resizes the L1 as `pressure` changes level ([`Cache::shrink_on_pressure`]); the L2 is
    /// untouched. With [`WriteMode::OnEviction`](crate::WriteMode::OnEviction), what the
    /// shrink evicts is queued for the L2.
    ///
    /// ```
    /// use pool_cache::{ShrinkOnPressure, TieredCache};
    /// use pool_metrics::{MemoryPressure, PressureLevel};
    ///
    /// let cache: TieredCache<u64, u64> = TieredCache::builder(100).shards(1).build()?;
    /// let pressure = MemoryPressure::new();
    /// let _guard = cache.shrink_on_pressure(&pressure, ShrinkOnPressure::new(0.1)?);
    /// for i in 0..100 { cache.insert(i, i)?; }
    /// pressure.set(PressureLevel::High);
    /// assert!(cache.stats().l1.evictions >= 90);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shrink_on_pressure(
        &self,
        pressure: &MemoryPressure,
        policy: ShrinkOnPressure,
    ) -> Subscription {
        self.inner().l1.shrink_on_pressure(pressure, policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacities_never_go_below_the_floor() {
        let p = ShrinkOnPressure::new(0.01).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.capacity(PressureLevel::High, 100, 8), 8);
        assert_eq!(p.capacity(PressureLevel::Critical, 100, 8), 8);
        assert_eq!(p.capacity(PressureLevel::Normal, 100, 8), 100);
        assert!(ShrinkOnPressure::new(0.0).is_err());
        assert!(ShrinkOnPressure::new(-1.0).is_err());
    }
}
