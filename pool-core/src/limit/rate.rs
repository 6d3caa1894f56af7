//! `RateLimiter`: GCRA (a token bucket without the refill thread) on one atomic.
//!
//! The whole state is the *theoretical arrival time* (TAT) of the next cell, in nanoseconds of
//! the limiter's clock. Admitting `n` cells at time `now` moves it to `max(TAT, now) + n·T`
//! (T = one emission interval); the request is refused when that would put TAT more than
//! `burst·T` ahead of `now`. A compare-exchange loop on one `AtomicU64` makes `check` lock-free and
//! allocation-free. In any window of length W at most `burst + W/T` cells are admitted.

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use crate::sync::{AtomicU64, Ordering};
use pool_metrics::{Clock, MonotonicClock};

/// Default burst when the builder is not told one: the number of cells per period (one period's
/// worth, as governor's `Quota::per_second`).
pub const DEFAULT_RATE_BURST: Option<u32> = None;

/// A lock-free GCRA rate limiter.
///
/// # Examples
///
/// ```
/// use pool_core::RateLimiter;
/// use std::num::NonZeroU32;
///
/// let limiter = RateLimiter::per_second(NonZeroU32::new(2).unwrap());
/// assert!(limiter.check().is_ok());
/// assert!(limiter.check().is_ok());
/// assert!(limiter.check().is_err()); // burst of 2 spent; next cell in ~0.5 s
/// ```
pub struct RateLimiter<C: Clock = MonotonicClock> {
    tat: AtomicU64,
    interval: u64,
    tolerance: u64,
    burst: u32,
    clock: C,
}

impl<C: Clock> fmt::Debug for RateLimiter<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("interval", &self.interval())
            .field("burst", &self.burst)
            .finish_non_exhaustive()
    }
}

/// The request was refused; `retry_after` says when the same request would first succeed.
///
/// # Examples
///
/// ```
/// use pool_core::RateLimiter;
/// use std::num::NonZeroU32;
///
/// let limiter = RateLimiter::per_second(NonZeroU32::new(1).unwrap());
/// limiter.check().unwrap();
/// let err = limiter.check().unwrap_err();
/// assert!(err.retry_after() <= std::time::Duration::from_secs(1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimited {
    retry_after: Duration,
}

impl RateLimited {
    pub(crate) fn new(retry_after: Duration) -> Self {
        Self { retry_after }
    }

    /// How long until the refused request would be admitted (if nobody else takes the capacity).
    ///
    /// # Examples
    ///
    /// ```
    /// # use pool_core::RateLimiter; use std::num::NonZeroU32;
    /// # let l = RateLimiter::per_second(NonZeroU32::new(1).unwrap()); l.check().unwrap();
    /// let wait = l.check().unwrap_err().retry_after();
    /// # assert!(wait.as_nanos() > 0);
    /// ```
    #[must_use]
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }
}

impl fmt::Display for RateLimited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rate limit exceeded; retry after {:?}", self.retry_after)
    }
}

impl std::error::Error for RateLimited {}

/// Why `try_acquire(n)` refused.
///
/// # Examples
///
/// ```
/// use pool_core::{AcquireRateError, RateLimiter};
/// use std::num::NonZeroU32;
///
/// let limiter = RateLimiter::per_second(NonZeroU32::new(5).unwrap());
/// assert!(matches!(limiter.try_acquire(6), Err(AcquireRateError::InsufficientCapacity { .. })));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AcquireRateError {
    /// Not now; see [`RateLimited::retry_after`].
    RateLimited(RateLimited),
    /// `n` is larger than the burst, so it can never be admitted at once.
    InsufficientCapacity {
        /// Cells asked for.
        requested: u32,
        /// The limiter's burst.
        burst: u32,
    },
}

impl fmt::Display for AcquireRateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RateLimited(r) => r.fmt(f),
            Self::InsufficientCapacity { requested, burst } => write!(
                f,
                "asked for {requested} cells but the burst is {burst}; ask for at most {burst}"
            ),
        }
    }
}

impl std::error::Error for AcquireRateError {}

/// What is wrong with a rate-limiter configuration.
///
/// # Examples
///
/// ```
/// let err = pool_core::RateLimiter::builder().per_second(0.0).build().unwrap_err();
/// assert_eq!(err.to_string(), "rate must be > 0 and finite, got 0");
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RateLimiterBuildError {
    /// The rate was zero, negative, NaN or infinite.
    InvalidRate(f64),
    /// The burst was zero.
    ZeroBurst,
    /// The rate is above one cell per nanosecond, which this limiter cannot represent.
    RateTooHigh(f64),
    /// A keyed limiter was asked to remember no keys at all.
    ZeroMaxKeys,
}

impl fmt::Display for RateLimiterBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidRate(r) => write!(f, "rate must be > 0 and finite, got {r}"),
            Self::ZeroBurst => f.write_str("burst must be > 0, got 0"),
            Self::ZeroMaxKeys => f.write_str("max_keys must be > 0, got 0"),
            Self::RateTooHigh(r) => {
                write!(f, "rate must be <= 1e9 cells per second, got {r}")
            }
        }
    }
}

impl std::error::Error for RateLimiterBuildError {}

/// Builder for [`RateLimiter`] and [`crate::KeyedRateLimiter`].
///
/// # Examples
///
/// ```
/// use pool_core::{ManualClock, RateLimiter};
/// use std::time::Duration;
///
/// let limiter = RateLimiter::builder()
///     .per_period(10, Duration::from_secs(1))
///     .burst(3)
///     .clock(ManualClock::new())
///     .build()
///     .unwrap();
/// assert_eq!(limiter.burst(), 3);
/// assert_eq!(limiter.interval(), Duration::from_millis(100));
/// ```
#[must_use]
#[derive(Debug, Clone)]
pub struct RateLimiterBuilder<C = MonotonicClock> {
    per_second: f64,
    burst: Option<u32>,
    clock: C,
}

impl RateLimiterBuilder<MonotonicClock> {
    fn new() -> Self {
        Self { per_second: 1.0, burst: DEFAULT_RATE_BURST, clock: MonotonicClock::new() }
    }
}

impl<C: Clock> RateLimiterBuilder<C> {
    /// Cells per second (fractional allowed: 0.5 is one cell every two seconds).
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pool_core::RateLimiter::builder().per_second(0.5).build().unwrap();
    /// assert_eq!(l.interval(), std::time::Duration::from_secs(2));
    /// ```
    pub fn per_second(mut self, cells: f64) -> Self {
        self.per_second = cells;
        self
    }

    /// `cells` per `period`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let l = pool_core::RateLimiter::builder().per_period(6, Duration::from_secs(60)).build().unwrap();
    /// assert_eq!(l.interval(), Duration::from_secs(10));
    /// ```
    pub fn per_period(mut self, cells: u32, period: Duration) -> Self {
        self.per_second = f64::from(cells) / period.as_secs_f64();
        self
    }

    /// The most cells admitted at once after a quiet spell (default: one second's worth, at
    /// least 1).
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pool_core::RateLimiter::builder().per_second(100.0).burst(1).build().unwrap();
    /// assert!(l.check().is_ok() && l.check().is_err());
    /// ```
    pub fn burst(mut self, burst: u32) -> Self {
        self.burst = Some(burst);
        self
    }

    /// Reads time from `clock` (a [`crate::ManualClock`] in tests).
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pool_core::RateLimiter::builder().clock(pool_core::ManualClock::new()).build();
    /// assert!(l.is_ok());
    /// ```
    pub fn clock<C2: Clock>(self, clock: C2) -> RateLimiterBuilder<C2> {
        RateLimiterBuilder { per_second: self.per_second, burst: self.burst, clock }
    }

    /// Validates (interval, burst) without building.
    fn params(&self) -> Result<(u64, u32), RateLimiterBuildError> {
        let r = self.per_second;
        if !(r.is_finite() && r > 0.0) {
            return Err(RateLimiterBuildError::InvalidRate(r));
        }
        if r > 1e9 {
            return Err(RateLimiterBuildError::RateTooHigh(r));
        }
        // Round the interval up so the limiter never admits more than the configured rate.
        let interval = (1e9 / r).ceil();
        let interval = if interval >= u64::MAX as f64 { u64::MAX } else { interval as u64 };
        let burst = match self.burst {
            Some(0) => return Err(RateLimiterBuildError::ZeroBurst),
            Some(b) => b,
            None => r.clamp(1.0, f64::from(u32::MAX)) as u32,
        };
        Ok((interval.max(1), burst))
    }

    /// Builds the limiter, starting with a full burst available.
    ///
    /// # Errors
    ///
    /// [`RateLimiterBuildError`] when the rate is zero, negative, NaN, infinite or above 1e9/s,
    /// or the burst is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(pool_core::RateLimiter::builder().per_second(f64::NAN).build().is_err());
    /// assert!(pool_core::RateLimiter::builder().burst(0).build().is_err());
    /// ```
    pub fn build(self) -> Result<RateLimiter<C>, RateLimiterBuildError> {
        let (interval, burst) = self.params()?;
        Ok(RateLimiter::from_parts(interval, burst, self.clock))
    }

    /// Builds a keyed limiter: one independent budget per key, at most `max_keys` remembered.
    ///
    /// # Errors
    ///
    /// As [`RateLimiterBuilder::build`], and [`RateLimiterBuildError::ZeroMaxKeys`] when
    /// `max_keys` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pool_core::RateLimiter::builder().per_second(1.0).build_keyed::<u32>(1000).unwrap();
    /// assert!(l.check(&7).is_ok());
    /// assert!(l.check(&7).is_err());
    /// assert!(l.check(&8).is_ok());
    /// ```
    pub fn build_keyed<K>(
        self,
        max_keys: usize,
    ) -> Result<crate::limit::KeyedRateLimiter<K, C>, RateLimiterBuildError>
    where
        K: std::hash::Hash + Eq + Clone,
    {
        let (interval, burst) = self.params()?;
        if max_keys == 0 {
            return Err(RateLimiterBuildError::ZeroMaxKeys);
        }
        Ok(crate::limit::KeyedRateLimiter::from_parts(interval, burst, max_keys, self.clock))
    }
}

impl RateLimiter<MonotonicClock> {
    /// `per_second` cells per second with a burst of the same size, on the real clock.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pool_core::RateLimiter::per_second(std::num::NonZeroU32::new(50).unwrap());
    /// assert_eq!(l.burst(), 50);
    /// ```
    #[must_use]
    pub fn per_second(per_second: NonZeroU32) -> Self {
        let n = per_second.get();
        // Rounded up, as in the builder, so the limiter never exceeds the stated rate.
        Self::from_parts(1_000_000_000u64.div_ceil(u64::from(n)), n, MonotonicClock::new())
    }

    /// A builder for the rate, burst and clock.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pool_core::RateLimiter::builder().per_second(5.0).burst(1).build().unwrap();
    /// assert_eq!(l.burst(), 1);
    /// ```
    pub fn builder() -> RateLimiterBuilder<MonotonicClock> {
        RateLimiterBuilder::new()
    }
}

impl<C: Clock> RateLimiter<C> {
    pub(crate) fn from_parts(interval: u64, burst: u32, clock: C) -> Self {
        Self {
            tat: AtomicU64::new(0),
            interval,
            tolerance: interval.saturating_mul(u64::from(burst)),
            burst,
            clock,
        }
    }

    /// The time between two cells at the steady rate.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pool_core::RateLimiter::per_second(std::num::NonZeroU32::new(4).unwrap());
    /// assert_eq!(l.interval(), std::time::Duration::from_millis(250));
    /// ```
    #[must_use]
    pub fn interval(&self) -> Duration {
        Duration::from_nanos(self.interval)
    }

    /// The most cells admitted at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pool_core::RateLimiter::per_second(std::num::NonZeroU32::new(4).unwrap());
    /// assert_eq!(l.burst(), 4);
    /// ```
    #[must_use]
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Admits one cell now, or says how long to wait. Lock-free and allocation-free.
    ///
    /// # Errors
    ///
    /// [`RateLimited`] when the budget is spent.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pool_core::RateLimiter::per_second(std::num::NonZeroU32::new(1).unwrap());
    /// assert!(l.check().is_ok());
    /// assert!(l.check().is_err());
    /// ```
    #[inline]
    pub fn check(&self) -> Result<(), RateLimited> {
        let now = self.clock.now_nanos();
        gcra(&self.tat, now, self.interval, self.tolerance)
    }

    /// Admits `n` cells at once, or none.
    ///
    /// # Errors
    ///
    /// [`AcquireRateError::InsufficientCapacity`] when `n > burst` (it could never succeed);
    /// [`AcquireRateError::RateLimited`] when not enough budget is left now.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pool_core::RateLimiter::per_second(std::num::NonZeroU32::new(10).unwrap());
    /// assert!(l.try_acquire(7).is_ok());
    /// assert!(l.try_acquire(7).is_err());
    /// assert!(l.try_acquire(3).is_ok());
    /// ```
    pub fn try_acquire(&self, n: u32) -> Result<(), AcquireRateError> {
        if n > self.burst {
            return Err(AcquireRateError::InsufficientCapacity { requested: n, burst: self.burst });
        }
        if n == 0 {
            return Ok(());
        }
        let now = self.clock.now_nanos();
        let cost = self.interval.saturating_mul(u64::from(n));
        gcra_n(&self.tat, now, cost, self.tolerance).map_err(AcquireRateError::RateLimited)
    }

    /// Blocks the thread until one cell is admitted.
    ///
    /// It sleeps for the `retry_after` the limiter reports, in real time, so it is meant for the
    /// real clock; with a [`crate::ManualClock`] it returns only once the clock is advanced.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pool_core::RateLimiter::per_second(std::num::NonZeroU32::new(1000).unwrap());
    /// l.until_ready(); // immediate: the burst is full
    /// ```
    pub fn until_ready(&self) {
        while let Err(e) = self.check() {
            std::thread::sleep(e.retry_after());
        }
    }

    /// Blocks until `n` cells are admitted together.
    ///
    /// # Errors
    ///
    /// [`AcquireRateError::InsufficientCapacity`] when `n > burst`; it would wait forever.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pool_core::RateLimiter::per_second(std::num::NonZeroU32::new(1000).unwrap());
    /// assert!(l.until_n_ready(10).is_ok());
    /// assert!(l.until_n_ready(10_000).is_err());
    /// ```
    pub fn until_n_ready(&self, n: u32) -> Result<(), AcquireRateError> {
        loop {
            match self.try_acquire(n) {
                Ok(()) => return Ok(()),
                Err(AcquireRateError::RateLimited(r)) => std::thread::sleep(r.retry_after()),
                Err(e) => return Err(e),
            }
        }
    }

    /// Waits asynchronously (runtime-agnostic; a shared timer thread wakes the task) until one
    /// cell is admitted.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "async")] {
    /// let l = pool_core::RateLimiter::per_second(std::num::NonZeroU32::new(1000).unwrap());
    /// futures::executor::block_on(l.until_ready_async());
    /// # }
    /// ```
    #[cfg(feature = "async")]
    pub async fn until_ready_async(&self) {
        while let Err(e) = self.check() {
            crate::limit::sleep::Sleep::new(e.retry_after()).await;
        }
    }
}

/// One GCRA step for a single cell.
#[inline]
pub(crate) fn gcra(
    tat: &AtomicU64,
    now: u64,
    interval: u64,
    tolerance: u64,
) -> Result<(), RateLimited> {
    gcra_n(tat, now, interval, tolerance)
}

/// One GCRA step for `cost = n·T`: the compare-exchange loop that makes the limiter lock-free.
#[inline]
pub(crate) fn gcra_n(
    tat: &AtomicU64,
    now: u64,
    cost: u64,
    tolerance: u64,
) -> Result<(), RateLimited> {
    // Relaxed is enough: the TAT is the only shared datum and the CAS orders updates to it.
    let mut current = tat.load(Ordering::Relaxed);
    loop {
        let (next, ok) = gcra_step(current, now, cost, tolerance);
        if !ok {
            return Err(RateLimited { retry_after: Duration::from_nanos(next) });
        }
        match tat.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return Ok(()),
            Err(seen) => current = seen,
        }
    }
}

/// Pure GCRA arithmetic: `(new_tat, true)` when admitted, `(wait_nanos, false)` when refused.
#[inline]
pub(crate) fn gcra_step(tat: u64, now: u64, cost: u64, tolerance: u64) -> (u64, bool) {
    let new_tat = tat.max(now).saturating_add(cost);
    let allow_at = new_tat.saturating_sub(tolerance);
    if allow_at <= now { (new_tat, true) } else { (allow_at - now, false) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pool_metrics::ManualClock;

    fn limiter(per_second: f64, burst: u32) -> (RateLimiter<ManualClock>, ManualClock) {
        let clock = ManualClock::new();
        let l = RateLimiter::builder()
            .per_second(per_second)
            .burst(burst)
            .clock(clock.clone())
            .build()
            .unwrap();
        (l, clock)
    }

    #[test]
    fn refills_at_the_rate() {
        let (l, clock) = limiter(10.0, 2);
        assert!(l.check().is_ok());
        assert!(l.check().is_ok());
        let e = l.check().unwrap_err();
        assert_eq!(e.retry_after(), Duration::from_millis(100));
        clock.advance(Duration::from_millis(99));
        assert!(l.check().is_err());
        clock.advance(Duration::from_millis(1));
        assert!(l.check().is_ok());
        assert!(l.check().is_err());
    }

    #[test]
    fn bad_rates_rejected_with_a_message() {
        for r in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let err = RateLimiter::builder().per_second(r).build().unwrap_err();
            assert!(err.to_string().starts_with("rate must be > 0"), "{err}");
        }
        assert_eq!(
            RateLimiter::builder().burst(0).build().unwrap_err().to_string(),
            "burst must be > 0, got 0"
        );
        assert!(RateLimiter::builder().per_period(0, Duration::from_secs(1)).build().is_err());
        assert!(RateLimiter::builder().per_period(1, Duration::ZERO).build().is_err());
    }

    #[test]
    fn n_larger_than_burst_never_fits() {
        let (l, _) = limiter(10.0, 5);
        assert_eq!(
            l.try_acquire(6),
            Err(AcquireRateError::InsufficientCapacity { requested: 6, burst: 5 })
        );
        assert!(l.try_acquire(5).is_ok());
        assert!(matches!(l.try_acquire(1), Err(AcquireRateError::RateLimited(_))));
    }
}
