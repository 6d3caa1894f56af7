//! [`UnixClock`]: wall-clock time for records that outlive the process.

use pool_metrics::Clock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch, as a [`Clock`] whose origin is the epoch.
///
/// The monotonic clocks restart with the process, so a store kept across restarts (DiskL2)
/// records expiry in wall-clock time instead. The system clock can step backwards; this clock
/// never does (it holds at the latest reading until the system clock catches up), as the
/// [`Clock`] contract requires. In tests, a [`ManualClock`](crate::ManualClock) stands in for
/// it, its nanoseconds read as time since the epoch.
///
/// ```
/// use pool_cache::{Clock, UnixClock};
///
/// let clock = UnixClock::new();
/// let now = clock.now_nanos();
/// assert!(now > 1_600_000_000 * 1_000_000_000); // after September 2020
/// assert!(clock.now_nanos() >= now);
/// ```
#[derive(Debug, Default)]
pub struct UnixClock {
    latest: AtomicU64,
}

impl UnixClock {
    /// The system's wall clock.
    ///
    /// ```
    /// let clock = pool_cache::UnixClock::new();
    /// # let _ = clock;
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

impl Clock for UnixClock {
    fn now_nanos(&self) -> u64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let prev = self.latest.fetch_max(now, Ordering::Relaxed);
        prev.max(now)
    }
}
