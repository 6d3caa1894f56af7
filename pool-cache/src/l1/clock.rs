//! The time source for expiry, injectable so tests control time.

use crate::sync::{Arc, AtomicU64, Ordering};
use std::fmt;
use std::time::{Duration, Instant};

/// A monotonic time source: the time elapsed since some fixed origin.
///
/// The cache reads it on every lookup once expiry is in use, so it should be cheap.
///
/// ```
/// use pool_cache::{Clock, MockClock};
/// use std::time::Duration;
///
/// let clock = MockClock::new();
/// clock.advance(Duration::from_secs(2));
/// assert_eq!(clock.now(), Duration::from_secs(2));
/// ```
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Time since the clock's origin; must never go backwards.
    fn now(&self) -> Duration;
}

/// The default clock: [`Instant`] measured from the cache's creation.
///
/// ```
/// use pool_cache::{Clock, SystemClock};
///
/// let clock = SystemClock::new();
/// let a = clock.now();
/// assert!(clock.now() >= a);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A clock whose origin is now.
    ///
    /// ```
    /// let clock = pool_cache::SystemClock::new();
    /// # let _ = clock;
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self { origin: Instant::now() }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A clock that moves only when told to; clones share the same time.
///
/// ```
/// use pool_cache::{Cache, MockClock};
/// use std::time::Duration;
///
/// let clock = MockClock::new();
/// let cache: Cache<u64, u64> = Cache::builder(10)
///     .time_to_live(Duration::from_secs(5))
///     .clock(clock.clone())
///     .build()?;
/// cache.insert(1, 1);
/// clock.advance(Duration::from_secs(5));
/// assert_eq!(cache.get(&1), None);
/// # Ok::<(), pool_cache::BuildError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct MockClock {
    nanos: Arc<AtomicU64>,
}

impl MockClock {
    /// A clock at zero.
    ///
    /// ```
    /// use pool_cache::{Clock, MockClock};
    ///
    /// assert_eq!(MockClock::new().now().as_nanos(), 0);
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves time forward by `by` (saturating).
    ///
    /// ```
    /// use pool_cache::{Clock, MockClock};
    /// use std::time::Duration;
    ///
    /// let c = MockClock::new();
    /// c.advance(Duration::from_millis(3));
    /// assert_eq!(c.now(), Duration::from_millis(3));
    /// ```
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .nanos
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| Some(n.saturating_add(by)));
    }
}

impl Clock for MockClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

/// Nanoseconds as the cache stores them, saturating (`Duration::MAX` is "never").
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
