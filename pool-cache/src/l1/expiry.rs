//! Per-entry expiry chosen by the user.

use std::time::Duration;

/// Decides each entry's time to live when it is written, for caches whose entries live for
/// different times (a token until its own expiry, a negative result shorter than a positive one).
///
/// Returning `None` falls back to the cache-wide time-to-live, if any. The cache-wide
/// time-to-idle still applies on top.
///
/// ```
/// use pool_cache::{Cache, Expiry, ManualClock};
/// use std::time::Duration;
///
/// #[derive(Debug)]
/// struct ShortForNone;
/// impl Expiry<u64, Option<String>> for ShortForNone {
///     fn expire_after_create(&self, _k: &u64, v: &Option<String>) -> Option<Duration> {
///         Some(if v.is_some() { Duration::from_secs(60) } else { Duration::from_secs(1) })
///     }
/// }
///
/// let clock = ManualClock::new();
/// let cache = Cache::builder(100).expiry(ShortForNone).clock(clock.clone()).build()?;
/// cache.insert(1, None);
/// cache.insert(2, Some("x".to_string()));
/// clock.advance(Duration::from_secs(2));
/// assert_eq!(cache.get(&1), None);
/// assert_eq!(cache.get(&2), Some(Some("x".to_string())));
/// # Ok::<(), pool_cache::BuildError>(())
/// ```
pub trait Expiry<K, V>: Send + Sync + std::fmt::Debug {
    /// Time to live of an entry as it is written (inserted or replaced). Called before the
    /// shard lock is taken, so it may be slow, but it must not panic.
    fn expire_after_create(&self, key: &K, value: &V) -> Option<Duration>;
}
