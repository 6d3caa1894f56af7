//! Clocks: the one behind timers and the profiler, and the injectable [`Clock`] the other pool
//! crates read time through ([`MonotonicClock`] in production, [`ManualClock`] in tests).
//!
//! quanta reads the TSC (`rdtsc`) and scales it with a calibration taken once; on CPUs whose
//! TSC is not invariant (or off x86) quanta itself falls back to the OS monotonic clock, so
//! it is safe wherever it runs. The `clock/now_and_elapsed` group of `benches/benches/metrics.rs`
//! times one start/stop pair of each against `std::time::Instant` in the same run:
//! `cargo bench -p pool-benches --bench metrics -- clock/`.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();

fn clock() -> &'static quanta::Clock {
    CLOCK.get_or_init(quanta::Clock::new)
}

/// A start time in raw clock ticks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Start(u64);

impl Start {
    #[inline]
    pub(crate) fn now() -> Self {
        Start(clock().raw())
    }

    #[inline]
    pub(crate) fn elapsed(self) -> Duration {
        let c = clock();
        c.delta(self.0, c.raw())
    }
}

/// A monotonic source of nanoseconds since an arbitrary, fixed origin.
///
/// `pool-core`'s rate limiter, circuit breaker and resource pool and `pool-cache`'s expiry read
/// time through this trait, so that tests drive time by hand ([`ManualClock`]) instead of sleeping. Implementations must never go backwards.
///
/// # Examples
///
/// ```
/// use pool_metrics::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// clock.advance(std::time::Duration::from_millis(3));
/// assert_eq!(clock.now_nanos(), 3_000_000);
/// ```
pub trait Clock: Send + Sync {
    /// Nanoseconds since this clock's origin; never decreases.
    fn now_nanos(&self) -> u64;
}

/// The real monotonic clock, backed by `quanta` as governor's is: a scaled TSC read where the
/// TSC is usable, else `clock_gettime(CLOCK_MONOTONIC)` through the vDSO. Either way the clock
/// read is a large share of a rate-limiter check, which is why the breaker reads it only when
/// slow-call tracking is on.
///
/// # Examples
///
/// ```
/// use pool_metrics::{Clock, MonotonicClock};
///
/// let clock = MonotonicClock::new();
/// let a = clock.now_nanos();
/// assert!(clock.now_nanos() >= a);
/// ```
#[derive(Clone)]
pub struct MonotonicClock {
    clock: quanta::Clock,
    /// Raw counter value at the origin; `delta_as_nanos` scales with a multiply and a shift,
    /// where going through `Instant`/`Duration` costs a division (measured: a few ns per call).
    origin: u64,
}

impl MonotonicClock {
    /// A clock whose origin is now.
    ///
    /// # Examples
    ///
    /// ```
    /// let clock = pool_metrics::MonotonicClock::new();
    /// # let _ = clock;
    /// ```
    #[must_use]
    pub fn new() -> Self {
        let clock = quanta::Clock::new();
        let origin = clock.raw();
        Self { clock, origin }
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MonotonicClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MonotonicClock").finish_non_exhaustive()
    }
}

impl Clock for MonotonicClock {
    #[inline]
    fn now_nanos(&self) -> u64 {
        // u64 nanoseconds cover 584 years of uptime.
        self.clock.delta_as_nanos(self.origin, self.clock.raw())
    }
}

/// A clock that only moves when told to; clones share the same time. For tests.
///
/// # Examples
///
/// ```
/// use pool_metrics::{Clock, ManualClock};
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let shared = clock.clone();
/// shared.advance(Duration::from_secs(1));
/// assert_eq!(clock.now_nanos(), 1_000_000_000);
/// ```
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A manual clock at time zero.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_metrics::Clock::now_nanos(&pool_metrics::ManualClock::new()), 0);
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves time forward by `by` (saturating at `u64::MAX` nanoseconds).
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_metrics::{Clock, ManualClock};
    /// let c = ManualClock::new();
    /// c.advance(std::time::Duration::from_nanos(5));
    /// assert_eq!(c.now_nanos(), 5);
    /// ```
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .nanos
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| Some(n.saturating_add(by)));
    }

    /// Sets the time to `nanos` if that is not earlier than now (a clock never goes back).
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_metrics::{Clock, ManualClock};
    /// let c = ManualClock::new();
    /// c.set_nanos(10);
    /// c.set_nanos(4); // ignored: earlier than now
    /// assert_eq!(c.now_nanos(), 10);
    /// ```
    pub fn set_nanos(&self, nanos: u64) {
        self.nanos.fetch_max(nanos, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    #[inline]
    fn now_nanos(&self) -> u64 {
        self.nanos.load(Ordering::SeqCst)
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    #[inline]
    fn now_nanos(&self) -> u64 {
        (**self).now_nanos()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    #[inline]
    fn now_nanos(&self) -> u64 {
        (**self).now_nanos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_tracks_real_time() {
        let start = Start::now();
        let std_start = std::time::Instant::now();
        // Busy-wait a bounded 5 ms of wall time (no sleeping on a race: this only needs time
        // to pass).
        while std_start.elapsed() < Duration::from_millis(5) {
            std::hint::spin_loop();
        }
        let ours = start.elapsed();
        let theirs = std_start.elapsed();
        assert!(ours >= Duration::from_millis(4), "{ours:?}");
        assert!(ours <= theirs + Duration::from_millis(2), "{ours:?} vs {theirs:?}");
    }
}
