//! `CircuitBreakerBuilder`: the breaker's knobs, validated in `build`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use pool_metrics::Clock;

use super::circuit::{CircuitBreaker, Inner, Window};
use super::error::{CircuitBreakerBuildError, CircuitBreakerBuildErrorKind};
use super::state::{CLOSED, StateTransition};
use crate::limit::window::{CountWindow, MAX_WINDOW, TimeWindow};
use crate::sync::AtomicU64;

/// Which recent calls the failure and slow-call rates are computed over.
///
/// # Examples
///
/// ```
/// use pool_core::{CircuitBreaker, SlidingWindow};
/// let b = CircuitBreaker::builder().sliding_window(SlidingWindow::TimeBased(10)).build().unwrap();
/// assert_eq!(b.config().sliding_window, SlidingWindow::TimeBased(10));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlidingWindow {
    /// The last `n` calls.
    CountBased(u32),
    /// The calls of the last `n` whole seconds (one bucket per second).
    TimeBased(u32),
}

/// The breaker's effective configuration.
///
/// # Examples
///
/// ```
/// let b = pool_core::CircuitBreaker::new();
/// assert_eq!(b.config().minimum_calls, pool_core::CircuitBreakerConfig::DEFAULT_MINIMUM_CALLS);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct CircuitBreakerConfig {
    /// Window the rates are computed over.
    pub sliding_window: SlidingWindow,
    /// Calls needed in the window before the rates are evaluated (at most a count window's size).
    pub minimum_calls: u32,
    /// Failure rate, in percent, at or above which the breaker opens.
    pub failure_rate_threshold: f64,
    /// Slow-call rate, in percent, at or above which the breaker opens.
    pub slow_call_rate_threshold: f64,
    /// A call slower than this is slow; `None` turns slow-call tracking (and its two clock reads
    /// per call) off.
    pub slow_call_duration: Option<Duration>,
    /// Time in open before the breaker lets probes through.
    pub wait_in_open: Duration,
    /// Probe calls permitted per half-open episode.
    pub permitted_calls_in_half_open: u32,
}

impl CircuitBreakerConfig {
    /// Default window: the last 100 calls (resilience4j's default).
    pub const DEFAULT_SLIDING_WINDOW: SlidingWindow = SlidingWindow::CountBased(100);
    /// Default minimum number of calls in the window before the rates are evaluated.
    pub const DEFAULT_MINIMUM_CALLS: u32 = 100;
    /// Default failure-rate threshold, in percent.
    pub const DEFAULT_FAILURE_RATE_THRESHOLD: f64 = 50.0;
    /// Default slow-call-rate threshold, in percent.
    pub const DEFAULT_SLOW_CALL_RATE_THRESHOLD: f64 = 100.0;
    /// Default wait in the open state before probing.
    pub const DEFAULT_WAIT_IN_OPEN: Duration = Duration::from_secs(60);
    /// Default number of probe calls permitted in half-open.
    pub const DEFAULT_PERMITTED_CALLS_IN_HALF_OPEN: u32 = 10;
}

pub(super) type Listener = Box<dyn Fn(StateTransition) + Send + Sync>;

/// Builder for [`CircuitBreaker`].
///
/// # Examples
///
/// ```
/// use pool_core::{CircuitBreaker, SlidingWindow};
/// use std::time::Duration;
///
/// let breaker = CircuitBreaker::builder()
///     .sliding_window(SlidingWindow::CountBased(20))
///     .minimum_calls(10)
///     .failure_rate_threshold(50.0)
///     .slow_call_duration(Duration::from_millis(200))
///     .wait_in_open(Duration::from_secs(5))
///     .permitted_calls_in_half_open(3)
///     .on_state_change(|t| eprintln!("breaker {:?} -> {:?}", t.from, t.to))
///     .build()
///     .unwrap();
/// assert_eq!(breaker.config().permitted_calls_in_half_open, 3);
/// ```
#[must_use]
pub struct CircuitBreakerBuilder {
    pub(super) config: CircuitBreakerConfig,
    /// Whether `minimum_calls` was set by the caller (a default is capped to a count window;
    /// an explicit value above it is rejected).
    pub(super) minimum_calls_set: bool,
    pub(super) listener: Option<Listener>,
    pub(super) clock: Arc<dyn Clock>,
}

impl fmt::Debug for CircuitBreakerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreakerBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl CircuitBreakerBuilder {
    /// Sets the sliding window (default [`CircuitBreakerConfig::DEFAULT_SLIDING_WINDOW`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::{CircuitBreaker, SlidingWindow};
    /// let b = CircuitBreaker::builder().sliding_window(SlidingWindow::CountBased(5)).build()?;
    /// assert_eq!(b.config().sliding_window, SlidingWindow::CountBased(5));
    /// assert_eq!(b.config().minimum_calls, 5, "the default minimum is capped to the window");
    /// # Ok::<(), pool_core::CircuitBreakerBuildError>(())
    /// ```
    pub fn sliding_window(mut self, w: SlidingWindow) -> Self {
        self.config.sliding_window = w;
        self
    }

    /// Calls needed in the window before the rates count (default
    /// [`CircuitBreakerConfig::DEFAULT_MINIMUM_CALLS`], capped to a count window's size). An explicit
    /// value above a count window's size can never be reached, so `build` rejects it.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::{CircuitBreaker, CircuitBreakerBuildErrorKind, SlidingWindow};
    /// let b = CircuitBreaker::builder().minimum_calls(5).build()?;
    /// assert_eq!(b.config().minimum_calls, 5);
    /// let err = CircuitBreaker::builder()
    ///     .sliding_window(SlidingWindow::CountBased(10))
    ///     .minimum_calls(1000)
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(
    ///     err.kind(),
    ///     &CircuitBreakerBuildErrorKind::MinimumCallsAboveWindow { minimum_calls: 1000, window: 10 }
    /// );
    /// # Ok::<(), pool_core::CircuitBreakerBuildError>(())
    /// ```
    pub fn minimum_calls(mut self, n: u32) -> Self {
        self.config.minimum_calls = n;
        self.minimum_calls_set = true;
        self
    }

    /// Failure rate in percent at or above which the breaker opens (default
    /// [`CircuitBreakerConfig::DEFAULT_FAILURE_RATE_THRESHOLD`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::CircuitBreaker::builder().failure_rate_threshold(25.0).build()?;
    /// assert_eq!(b.config().failure_rate_threshold, 25.0);
    /// # Ok::<(), pool_core::CircuitBreakerBuildError>(())
    /// ```
    pub fn failure_rate_threshold(mut self, percent: f64) -> Self {
        self.config.failure_rate_threshold = percent;
        self
    }

    /// Slow-call rate in percent at or above which the breaker opens (default
    /// [`CircuitBreakerConfig::DEFAULT_SLOW_CALL_RATE_THRESHOLD`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::CircuitBreaker::builder().slow_call_rate_threshold(80.0).build()?;
    /// assert_eq!(b.config().slow_call_rate_threshold, 80.0);
    /// # Ok::<(), pool_core::CircuitBreakerBuildError>(())
    /// ```
    pub fn slow_call_rate_threshold(mut self, percent: f64) -> Self {
        self.config.slow_call_rate_threshold = percent;
        self
    }

    /// A call taking longer than `d` counts as slow. Unset by default: resilience4j defaults to
    /// 60 s, but timing every call costs two clock reads, so it is opt-in here.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = pool_core::CircuitBreaker::builder().slow_call_duration(Duration::from_secs(1)).build()?;
    /// assert_eq!(b.config().slow_call_duration, Some(Duration::from_secs(1)));
    /// # Ok::<(), pool_core::CircuitBreakerBuildError>(())
    /// ```
    pub fn slow_call_duration(mut self, d: Duration) -> Self {
        self.config.slow_call_duration = Some(d);
        self
    }

    /// How long the breaker stays open before probing (default
    /// [`CircuitBreakerConfig::DEFAULT_WAIT_IN_OPEN`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::{CircuitBreaker, CircuitState, ManualClock};
    /// use std::time::Duration;
    /// let clock = ManualClock::new();
    /// let b = CircuitBreaker::builder()
    ///     .wait_in_open(Duration::from_secs(1))
    ///     .clock(clock.clone())
    ///     .build()?;
    /// b.force_open();
    /// assert!(!b.is_call_permitted());
    /// clock.advance(Duration::from_secs(1));
    /// assert!(b.is_call_permitted());
    /// # Ok::<(), pool_core::CircuitBreakerBuildError>(())
    /// ```
    pub fn wait_in_open(mut self, d: Duration) -> Self {
        self.config.wait_in_open = d;
        self
    }

    /// Probe calls let through in half-open (default
    /// [`CircuitBreakerConfig::DEFAULT_PERMITTED_CALLS_IN_HALF_OPEN`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::{CircuitBreaker, CircuitBreakerConfig, ManualClock};
    /// let clock = ManualClock::new();
    /// let b = CircuitBreaker::builder().permitted_calls_in_half_open(1).clock(clock.clone()).build()?;
    /// b.force_open();
    /// clock.advance(CircuitBreakerConfig::DEFAULT_WAIT_IN_OPEN);
    /// let probe = b.try_acquire().unwrap();
    /// assert!(b.try_acquire().is_err(), "only one probe");
    /// probe.success();
    /// # Ok::<(), pool_core::CircuitBreakerBuildError>(())
    /// ```
    pub fn permitted_calls_in_half_open(mut self, n: u32) -> Self {
        self.config.permitted_calls_in_half_open = n;
        self
    }

    /// Called (by the one thread that made it) on every state change. It runs on that thread
    /// with no lock held, so it may call back into the breaker.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use pool_core::{CircuitBreaker, CircuitState};
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let log = seen.clone();
    /// let b = CircuitBreaker::builder()
    ///     .on_state_change(move |t| log.lock().unwrap().push(t.to))
    ///     .build()?;
    /// b.force_open();
    /// assert_eq!(*seen.lock().unwrap(), vec![CircuitState::Open]);
    /// # Ok::<(), pool_core::CircuitBreakerBuildError>(())
    /// ```
    pub fn on_state_change(mut self, f: impl Fn(StateTransition) + Send + Sync + 'static) -> Self {
        self.listener = Some(Box::new(f));
        self
    }

    /// Reads time from `clock` (default [`MonotonicClock`](crate::MonotonicClock)); tests pass a
    /// [`ManualClock`](crate::ManualClock) and advance it instead of sleeping.
    ///
    /// The breaker holds it as an `Arc<dyn Clock>`, as every time-dependent type in this
    /// workspace does: one shape for every builder, and no clock type parameter on the breaker.
    /// The dynamic call costs a nanosecond or so and happens only where the breaker reads time
    /// at all (open-state checks and, when enabled, slow-call timing), never on the closed
    /// fast path.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::{CircuitBreaker, ManualClock};
    /// let b = CircuitBreaker::builder().clock(ManualClock::new()).build()?;
    /// assert!(b.try_acquire().is_ok());
    /// # Ok::<(), pool_core::CircuitBreakerBuildError>(())
    /// ```
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Validates and builds the breaker, closed.
    ///
    /// # Errors
    ///
    /// [`CircuitBreakerBuildError`] for a zero or oversized window, zero minimum calls (or an
    /// explicit one above a count window's size), a threshold that is NaN or outside (0, 100],
    /// a zero duration, or zero (or > 65 535) half-open permits.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = pool_core::CircuitBreaker::builder()
    ///     .sliding_window(pool_core::SlidingWindow::CountBased(0))
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.to_string(), "sliding window size must be in 1..=2097151, got 0");
    /// ```
    pub fn build(mut self) -> Result<CircuitBreaker, CircuitBreakerBuildError> {
        use CircuitBreakerBuildErrorKind as K;
        let c = &mut self.config;
        let err = |kind| Err(CircuitBreakerBuildError { kind });
        let size = match c.sliding_window {
            SlidingWindow::CountBased(n) | SlidingWindow::TimeBased(n) => n,
        };
        if size == 0 || size > MAX_WINDOW {
            return err(K::WindowSize(size));
        }
        if c.minimum_calls == 0 {
            return err(K::ZeroMinimumCalls);
        }
        if let SlidingWindow::CountBased(n) = c.sliding_window
            && c.minimum_calls > n
        {
            if self.minimum_calls_set {
                return err(K::MinimumCallsAboveWindow {
                    minimum_calls: c.minimum_calls,
                    window: n,
                });
            }
            // The default minimum, capped so the config reads back what the breaker does.
            c.minimum_calls = n;
        }
        let pct = |t: f64| t > 0.0 && t <= 100.0; // false for NaN
        if !pct(c.failure_rate_threshold) {
            return err(K::FailureRateThreshold(c.failure_rate_threshold));
        }
        if !pct(c.slow_call_rate_threshold) {
            return err(K::SlowCallRateThreshold(c.slow_call_rate_threshold));
        }
        if c.slow_call_duration == Some(Duration::ZERO) {
            return err(K::ZeroSlowCallDuration);
        }
        if c.wait_in_open.is_zero() {
            return err(K::ZeroWaitInOpen);
        }
        match c.permitted_calls_in_half_open {
            0 => return err(K::ZeroPermittedCallsInHalfOpen),
            n if n > u32::from(u16::MAX) => return err(K::TooManyPermittedCallsInHalfOpen(n)),
            _ => {}
        }
        let window = match c.sliding_window {
            SlidingWindow::CountBased(n) => Window::Count(CountWindow::new(n)),
            SlidingWindow::TimeBased(n) => Window::Time(TimeWindow::new(n)),
        };
        let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Ok(CircuitBreaker {
            inner: Arc::new(Inner {
                state: AtomicU64::new(CLOSED),
                half_open_slots: AtomicU64::new(0),
                half_open_tally: AtomicU64::new(0),
                opened_at: AtomicU64::new(0),
                not_permitted: pool_metrics::Counter::new(),
                window,
                min_calls: u64::from(c.minimum_calls),
                slow_nanos: c.slow_call_duration.map_or(u64::MAX, nanos),
                wait_nanos: nanos(c.wait_in_open),
                config: self.config,
                listener: self.listener,
                clock: self.clock,
                exported: crate::sync::Mutex::default(),
                transitions: std::array::from_fn(|_| AtomicU64::new(0)),
            }),
        })
    }
}
