//! `RateLimiter`: GCRA (a token bucket without the refill thread) on one atomic.
//!
//! The whole state is the *theoretical arrival time* (TAT) of the next cell, in nanoseconds of
//! the limiter's clock. Admitting `n` cells at time `now` moves it to `max(TAT, now) + n·T`
//! (T = one emission interval); the request is refused when that would put TAT more than
//! `burst·T` ahead of `now`. A compare-exchange loop on one `AtomicU64` makes `check` lock-free and
//! allocation-free. In any window of length W at most `burst + W/T` cells are admitted.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::sync::{AtomicU64, Mutex, Ordering};
use pool_metrics::{Clock, MonotonicClock};

/// A lock-free GCRA rate limiter.
///
/// A cheap handle: clones share one budget (one `Arc`), so hand a clone to every thread that
/// draws on the same budget.
///
/// # Examples
///
/// ```
/// use pool_core::RateLimiter;
///
/// let limiter = RateLimiter::per_second(2.0)?;
/// let shared = limiter.clone();
/// assert!(limiter.check().is_ok());
/// assert!(shared.check().is_ok());
/// assert!(limiter.check().is_err()); // burst of 2 spent, by both handles; next cell in ~0.5 s
/// # Ok::<(), pool_core::RateLimiterBuildError>(())
/// ```
#[derive(Clone)]
pub struct RateLimiter {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    tat: AtomicU64,
    /// Cells admitted; beside `tat`, whose cache line the admitting thread already owns.
    pub(crate) admitted: AtomicU64,
    /// Requests refused.
    pub(crate) limited: AtomicU64,
    interval: u64,
    tolerance: u64,
    burst: u32,
    clock: TimeSource,
    /// `(admitted, limited)` as last exported (so exports add deltas).
    pub(crate) exported: Mutex<(u64, u64)>,
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("interval", &self.interval())
            .field("burst", &self.inner.burst)
            .finish_non_exhaustive()
    }
}

/// The request was refused; `retry_after` says when the same request would first succeed.
///
/// # Examples
///
/// ```
/// use pool_core::RateLimiter;
///
/// let limiter = RateLimiter::per_second(1.0).unwrap();
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
    /// # use pool_core::RateLimiter;
    /// # let l = RateLimiter::per_second(1.0).unwrap(); l.check().unwrap();
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
///
/// let limiter = RateLimiter::per_second(5.0).unwrap();
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

/// What is wrong with a rate-limiter configuration; [`kind`](Self::kind) says which knob.
///
/// # Examples
///
/// ```
/// let err = pool_core::RateLimiter::builder().per_second(0.0).build().unwrap_err();
/// assert_eq!(err.to_string(), "rate must be > 0 and finite, got 0");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimiterBuildError {
    kind: RateLimiterBuildErrorKind,
}

/// The kind of a [`RateLimiterBuildError`].
///
/// # Examples
///
/// ```
/// use pool_core::{RateLimiter, RateLimiterBuildErrorKind};
/// let err = RateLimiter::builder().burst(0).build().unwrap_err();
/// assert_eq!(err.kind(), &RateLimiterBuildErrorKind::ZeroBurst);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RateLimiterBuildErrorKind {
    /// The rate was zero, negative, NaN or infinite.
    InvalidRate(f64),
    /// The burst was zero.
    ZeroBurst,
    /// The rate is above one cell per nanosecond, which this limiter cannot represent.
    RateTooHigh(f64),
    /// A keyed limiter was asked to remember no keys at all.
    ZeroMaxKeys,
}

impl RateLimiterBuildError {
    fn new(kind: RateLimiterBuildErrorKind) -> Self {
        Self { kind }
    }

    /// What was wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::{RateLimiter, RateLimiterBuildErrorKind};
    /// let err = RateLimiter::per_second(f64::NAN).unwrap_err();
    /// assert!(matches!(err.kind(), RateLimiterBuildErrorKind::InvalidRate(r) if r.is_nan()));
    /// ```
    #[must_use]
    pub fn kind(&self) -> &RateLimiterBuildErrorKind {
        &self.kind
    }
}

impl fmt::Display for RateLimiterBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use RateLimiterBuildErrorKind as K;
        match &self.kind {
            K::InvalidRate(r) => write!(f, "rate must be > 0 and finite, got {r}"),
            K::ZeroBurst => f.write_str("burst must be > 0, got 0"),
            K::ZeroMaxKeys => f.write_str("max_keys must be > 0, got 0"),
            K::RateTooHigh(r) => {
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
#[derive(Clone)]
pub struct RateLimiterBuilder {
    per_second: f64,
    burst: Option<u32>,
    clock: TimeSource,
}

/// The limiters' time source. A clock read is most of the cost of a `check`, so the real clock
/// is called directly (inlined) rather than through the `Arc<dyn Clock>` an injected clock is
/// held in: the same `.clock(..)` shape as every other builder, without the dynamic call on the
/// default path.
#[derive(Clone)]
pub(crate) enum TimeSource {
    Monotonic(MonotonicClock),
    Injected(Arc<dyn Clock>),
}

impl TimeSource {
    #[inline]
    pub(crate) fn now_nanos(&self) -> u64 {
        match self {
            Self::Monotonic(c) => c.now_nanos(),
            Self::Injected(c) => c.now_nanos(),
        }
    }
}

impl fmt::Debug for RateLimiterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiterBuilder")
            .field("per_second", &self.per_second)
            .field("burst", &self.burst)
            .finish_non_exhaustive()
    }
}

impl RateLimiterBuilder {
    fn new() -> Self {
        Self {
            per_second: RateLimiter::DEFAULT_PER_SECOND,
            burst: None,
            clock: TimeSource::Monotonic(MonotonicClock::new()),
        }
    }

    /// Cells per second (default [`RateLimiter::DEFAULT_PER_SECOND`]); fractional allowed:
    /// 0.5 is one cell every two seconds. The same `f64` as [`RateLimiter::per_second`].
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

    /// Reads time from `clock` (default [`MonotonicClock`]); tests pass a
    /// [`ManualClock`](crate::ManualClock) and advance it instead of sleeping.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::{ManualClock, RateLimiter};
    /// let clock = ManualClock::new();
    /// let l = RateLimiter::builder().per_second(1.0).clock(clock.clone()).build()?;
    /// assert!(l.check().is_ok() && l.check().is_err());
    /// clock.advance(std::time::Duration::from_secs(1));
    /// assert!(l.check().is_ok());
    /// # Ok::<(), pool_core::RateLimiterBuildError>(())
    /// ```
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = TimeSource::Injected(Arc::new(clock));
        self
    }

    /// Validates (interval, burst) without building.
    fn params(&self) -> Result<(u64, u32), RateLimiterBuildError> {
        let r = self.per_second;
        if !(r.is_finite() && r > 0.0) {
            return Err(RateLimiterBuildError::new(RateLimiterBuildErrorKind::InvalidRate(r)));
        }
        if r > 1e9 {
            return Err(RateLimiterBuildError::new(RateLimiterBuildErrorKind::RateTooHigh(r)));
        }
        // Round the interval up so the limiter never admits more than the configured rate.
        let interval = (1e9 / r).ceil();
        let interval = if interval >= u64::MAX as f64 { u64::MAX } else { interval as u64 };
        let burst = match self.burst {
            Some(0) => {
                return Err(RateLimiterBuildError::new(RateLimiterBuildErrorKind::ZeroBurst));
            }
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
    pub fn build(self) -> Result<RateLimiter, RateLimiterBuildError> {
        let (interval, burst) = self.params()?;
        Ok(RateLimiter::from_parts(interval, burst, self.clock))
    }

    /// Builds a keyed limiter: one independent budget per key, at most `max_keys` remembered.
    ///
    /// # Errors
    ///
    /// As [`RateLimiterBuilder::build`], and [`RateLimiterBuildErrorKind::ZeroMaxKeys`] when
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
    ) -> Result<crate::limit::KeyedRateLimiter<K>, RateLimiterBuildError>
    where
        K: std::hash::Hash + Eq + Clone,
    {
        let (interval, burst) = self.params()?;
        if max_keys == 0 {
            return Err(RateLimiterBuildError::new(RateLimiterBuildErrorKind::ZeroMaxKeys));
        }
        Ok(crate::limit::KeyedRateLimiter::from_parts(interval, burst, max_keys, self.clock))
    }
}

impl RateLimiter {
    /// The rate a builder starts with, in cells per second.
    pub const DEFAULT_PER_SECOND: f64 = 1.0;

    /// `per_second` cells per second (fractional allowed, as in the builder) with a burst of
    /// one second's worth (at least 1), on the real clock.
    ///
    /// # Errors
    ///
    /// [`RateLimiterBuildError`] when the rate is zero, negative, NaN, infinite or above 1e9/s
    /// (constructors in this crate never panic on bad input).
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pool_core::RateLimiter::per_second(50.0)?;
    /// assert_eq!(l.burst(), 50);
    /// assert!(pool_core::RateLimiter::per_second(0.0).is_err());
    /// # Ok::<(), pool_core::RateLimiterBuildError>(())
    /// ```
    pub fn per_second(per_second: f64) -> Result<Self, RateLimiterBuildError> {
        Self::builder().per_second(per_second).build()
    }

    /// A builder for the rate, burst and clock.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pool_core::RateLimiter::builder().per_second(5.0).burst(1).build()?;
    /// assert_eq!(l.burst(), 1);
    /// # Ok::<(), pool_core::RateLimiterBuildError>(())
    /// ```
    pub fn builder() -> RateLimiterBuilder {
        RateLimiterBuilder::new()
    }

    pub(crate) fn from_parts(interval: u64, burst: u32, clock: TimeSource) -> Self {
        Self {
            inner: Arc::new(Inner {
                tat: AtomicU64::new(0),
                admitted: AtomicU64::new(0),
                limited: AtomicU64::new(0),
                interval,
                tolerance: interval.saturating_mul(u64::from(burst)),
                burst,
                clock,
                exported: Mutex::new((0, 0)),
            }),
        }
    }

    /// The time between two cells at the steady rate.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pool_core::RateLimiter::per_second(4.0).unwrap();
    /// assert_eq!(l.interval(), std::time::Duration::from_millis(250));
    /// ```
    #[must_use]
    pub fn interval(&self) -> Duration {
        Duration::from_nanos(self.inner.interval)
    }

    /// The most cells admitted at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pool_core::RateLimiter::per_second(4.0).unwrap();
    /// assert_eq!(l.burst(), 4);
    /// ```
    #[must_use]
    pub fn burst(&self) -> u32 {
        self.inner.burst
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
    /// let l = pool_core::RateLimiter::per_second(1.0).unwrap();
    /// assert!(l.check().is_ok());
    /// assert!(l.check().is_err());
    /// ```
    #[inline]
    pub fn check(&self) -> Result<(), RateLimited> {
        let inner = &*self.inner;
        let now = inner.clock.now_nanos();
        let r = gcra(&inner.tat, now, inner.interval, inner.tolerance);
        inner.count(r.is_ok(), 1);
        r
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
    /// let l = pool_core::RateLimiter::per_second(10.0).unwrap();
    /// assert!(l.try_acquire(7).is_ok());
    /// assert!(l.try_acquire(7).is_err());
    /// assert!(l.try_acquire(3).is_ok());
    /// ```
    pub fn try_acquire(&self, n: u32) -> Result<(), AcquireRateError> {
        let inner = &*self.inner;
        if n > inner.burst {
            inner.count(false, 0);
            return Err(AcquireRateError::InsufficientCapacity {
                requested: n,
                burst: inner.burst,
            });
        }
        if n == 0 {
            return Ok(());
        }
        let now = inner.clock.now_nanos();
        let cost = inner.interval.saturating_mul(u64::from(n));
        let r = gcra_n(&inner.tat, now, cost, inner.tolerance);
        inner.count(r.is_ok(), u64::from(n));
        r.map_err(AcquireRateError::RateLimited)
    }

    /// Blocks the thread until one cell is admitted.
    ///
    /// It sleeps for the `retry_after` the limiter reports, in real time, so it is meant for the
    /// real clock; with a [`crate::ManualClock`] it returns only once the clock is advanced.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pool_core::RateLimiter::per_second(1000.0).unwrap();
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
    /// let l = pool_core::RateLimiter::per_second(1000.0).unwrap();
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
    /// let l = pool_core::RateLimiter::per_second(1000.0).unwrap();
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

impl Inner {
    #[inline]
    fn count(&self, admitted: bool, cells: u64) {
        if admitted {
            self.admitted.fetch_add(cells, Ordering::Relaxed);
        } else {
            self.limited.fetch_add(1, Ordering::Relaxed);
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
    // In u128, so a TAT pushed past u64::MAX is not saturated down to where "TAT − tolerance"
    // reads as "allowed now" (that made a rate of one cell per `Duration::MAX` admit every
    // request). The stored TAT is capped at u64::MAX ns, 584 years: "never" either way.
    let new_tat = u128::from(tat.max(now)) + u128::from(cost);
    let allow_at = new_tat.saturating_sub(u128::from(tolerance));
    if allow_at <= u128::from(now) {
        (u64::try_from(new_tat).unwrap_or(u64::MAX), true)
    } else {
        (u64::try_from(allow_at - u128::from(now)).unwrap_or(u64::MAX), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pool_metrics::ManualClock;

    fn limiter(per_second: f64, burst: u32) -> (RateLimiter, ManualClock) {
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
