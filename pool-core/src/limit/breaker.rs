//! `CircuitBreaker`: closed / open / half-open with resilience4j's sliding-window semantics.
//!
//! The state lives in one atomic word, `epoch << 2 | state`; every transition is a
//! compare-exchange that bumps the epoch, so exactly one thread wins it (and calls the listener),
//! and a permit remembers the epoch it was issued in, so a late outcome from an earlier state is
//! ignored instead of polluting the new one. In half-open, a second word `epoch << 32 | remaining`
//! hands out permits by compare-exchange: exactly `permitted_calls_in_half_open` are granted per
//! half-open episode however many threads race for them. That word is primed (once per episode)
//! before the state word announces half-open, so no caller is refused while permits remain.

use std::fmt;
use std::time::Duration;

use crate::limit::window::{CALL, CountWindow, Counts, FAILED, MAX_WINDOW, SLOW, TimeWindow};
use crate::sync::{AtomicU64, Ordering};
use pool_metrics::{Clock, MonotonicClock};

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

const CLOSED: u64 = 0;
const OPEN: u64 = 1;
const HALF_OPEN: u64 = 2;

/// The breaker's state.
///
/// # Examples
///
/// ```
/// let b = pool_core::CircuitBreaker::new();
/// assert_eq!(b.state(), pool_core::CircuitState::Closed);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CircuitState {
    /// Calls pass; outcomes are recorded in the window.
    Closed,
    /// Calls are refused until the wait in open has passed.
    Open,
    /// A fixed number of probe calls pass; their outcomes close or re-open the breaker.
    HalfOpen,
}

fn decode(word: u64) -> CircuitState {
    match word & 3 {
        CLOSED => CircuitState::Closed,
        OPEN => CircuitState::Open,
        _ => CircuitState::HalfOpen,
    }
}

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

/// A state change, as given to the listener.
///
/// # Examples
///
/// ```
/// use pool_core::{CircuitState, StateTransition};
/// let t = StateTransition { from: CircuitState::Closed, to: CircuitState::Open };
/// assert_eq!(t.to, CircuitState::Open);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateTransition {
    /// The state left.
    pub from: CircuitState,
    /// The state entered.
    pub to: CircuitState,
}

/// The breaker's effective configuration.
///
/// # Examples
///
/// ```
/// let b = pool_core::CircuitBreaker::new();
/// assert_eq!(b.config().minimum_calls, pool_core::DEFAULT_MINIMUM_CALLS);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct BreakerConfig {
    /// Window the rates are computed over.
    pub sliding_window: SlidingWindow,
    /// Calls needed in the window before the rates are evaluated (capped at a count window's size).
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

/// What is wrong with a breaker configuration.
///
/// # Examples
///
/// ```
/// let err = pool_core::CircuitBreaker::builder().failure_rate_threshold(f64::NAN).build().unwrap_err();
/// assert_eq!(err.to_string(), "failure_rate_threshold must be in (0, 100], got NaN");
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct BreakerBuildError {
    kind: BreakerBuildErrorKind,
}

/// The kind of a [`BreakerBuildError`].
///
/// # Examples
///
/// ```
/// use pool_core::{BreakerBuildErrorKind, CircuitBreaker};
/// let err = CircuitBreaker::builder().permitted_calls_in_half_open(0).build().unwrap_err();
/// assert_eq!(err.kind(), &BreakerBuildErrorKind::ZeroPermittedCallsInHalfOpen);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum BreakerBuildErrorKind {
    /// A window of zero calls or seconds, or one above 2^21 − 1.
    WindowSize(u32),
    /// `minimum_calls` was 0.
    ZeroMinimumCalls,
    /// The failure-rate threshold is NaN or outside (0, 100].
    FailureRateThreshold(f64),
    /// The slow-call-rate threshold is NaN or outside (0, 100].
    SlowCallRateThreshold(f64),
    /// The slow-call duration was zero.
    ZeroSlowCallDuration,
    /// The wait in open was zero.
    ZeroWaitInOpen,
    /// No probe calls in half-open.
    ZeroPermittedCallsInHalfOpen,
    /// More than 65 535 probe calls in half-open.
    TooManyPermittedCallsInHalfOpen(u32),
}

impl BreakerBuildError {
    /// What was wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = pool_core::CircuitBreaker::builder().minimum_calls(0).build().unwrap_err();
    /// assert_eq!(err.kind(), &pool_core::BreakerBuildErrorKind::ZeroMinimumCalls);
    /// ```
    #[must_use]
    pub fn kind(&self) -> &BreakerBuildErrorKind {
        &self.kind
    }
}

impl fmt::Display for BreakerBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use BreakerBuildErrorKind as K;
        match &self.kind {
            K::WindowSize(n) => {
                write!(f, "sliding window size must be in 1..={MAX_WINDOW}, got {n}")
            }
            K::ZeroMinimumCalls => f.write_str("minimum_calls must be > 0, got 0"),
            K::FailureRateThreshold(t) => {
                write!(f, "failure_rate_threshold must be in (0, 100], got {t}")
            }
            K::SlowCallRateThreshold(t) => {
                write!(f, "slow_call_rate_threshold must be in (0, 100], got {t}")
            }
            K::ZeroSlowCallDuration => f.write_str("slow_call_duration must be > 0, got 0ns"),
            K::ZeroWaitInOpen => f.write_str("wait_in_open must be > 0, got 0ns"),
            K::ZeroPermittedCallsInHalfOpen => {
                f.write_str("permitted_calls_in_half_open must be > 0, got 0")
            }
            K::TooManyPermittedCallsInHalfOpen(n) => {
                write!(f, "permitted_calls_in_half_open must be <= 65535, got {n}")
            }
        }
    }
}

impl std::error::Error for BreakerBuildError {}

type Listener = Box<dyn Fn(StateTransition) + Send + Sync>;

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
pub struct CircuitBreakerBuilder<C = MonotonicClock> {
    config: BreakerConfig,
    listener: Option<Listener>,
    clock: C,
}

impl<C> fmt::Debug for CircuitBreakerBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreakerBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<C: Clock> CircuitBreakerBuilder<C> {
    /// Sets the sliding window (default [`DEFAULT_SLIDING_WINDOW`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::CircuitBreaker::builder().sliding_window(pool_core::SlidingWindow::CountBased(5));
    /// # let _ = b;
    /// ```
    pub fn sliding_window(mut self, w: SlidingWindow) -> Self {
        self.config.sliding_window = w;
        self
    }

    /// Calls needed before the rates count (default [`DEFAULT_MINIMUM_CALLS`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::CircuitBreaker::builder().minimum_calls(5);
    /// # let _ = b;
    /// ```
    pub fn minimum_calls(mut self, n: u32) -> Self {
        self.config.minimum_calls = n;
        self
    }

    /// Failure rate in percent that opens the breaker (default 50).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::CircuitBreaker::builder().failure_rate_threshold(25.0);
    /// # let _ = b;
    /// ```
    pub fn failure_rate_threshold(mut self, percent: f64) -> Self {
        self.config.failure_rate_threshold = percent;
        self
    }

    /// Slow-call rate in percent that opens the breaker (default 100).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::CircuitBreaker::builder().slow_call_rate_threshold(80.0);
    /// # let _ = b;
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
    /// let b = pool_core::CircuitBreaker::builder().slow_call_duration(std::time::Duration::from_secs(1));
    /// # let _ = b;
    /// ```
    pub fn slow_call_duration(mut self, d: Duration) -> Self {
        self.config.slow_call_duration = Some(d);
        self
    }

    /// How long the breaker stays open before probing (default 60 s).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::CircuitBreaker::builder().wait_in_open(std::time::Duration::from_secs(1));
    /// # let _ = b;
    /// ```
    pub fn wait_in_open(mut self, d: Duration) -> Self {
        self.config.wait_in_open = d;
        self
    }

    /// Probe calls let through in half-open (default 10).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::CircuitBreaker::builder().permitted_calls_in_half_open(1);
    /// # let _ = b;
    /// ```
    pub fn permitted_calls_in_half_open(mut self, n: u32) -> Self {
        self.config.permitted_calls_in_half_open = n;
        self
    }

    /// Called (by the one thread that made it) on every state change.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::CircuitBreaker::builder().on_state_change(|t| println!("{t:?}"));
    /// # let _ = b;
    /// ```
    pub fn on_state_change(mut self, f: impl Fn(StateTransition) + Send + Sync + 'static) -> Self {
        self.listener = Some(Box::new(f));
        self
    }

    /// Reads time from `clock` instead of the real one.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::CircuitBreaker::builder().clock(pool_core::ManualClock::new()).build();
    /// assert!(b.is_ok());
    /// ```
    pub fn clock<C2: Clock>(self, clock: C2) -> CircuitBreakerBuilder<C2> {
        CircuitBreakerBuilder { config: self.config, listener: self.listener, clock }
    }

    /// Validates and builds the breaker, closed.
    ///
    /// # Errors
    ///
    /// [`BreakerBuildError`] for a zero or oversized window, zero minimum calls, a threshold that
    /// is NaN or outside (0, 100], a zero duration, or zero (or > 65 535) half-open permits.
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
    pub fn build(self) -> Result<CircuitBreaker<C>, BreakerBuildError> {
        use BreakerBuildErrorKind as K;
        let c = &self.config;
        let err = |kind| Err(BreakerBuildError { kind });
        let size = match c.sliding_window {
            SlidingWindow::CountBased(n) | SlidingWindow::TimeBased(n) => n,
        };
        if size == 0 || size > MAX_WINDOW {
            return err(K::WindowSize(size));
        }
        if c.minimum_calls == 0 {
            return err(K::ZeroMinimumCalls);
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
        let min_calls = match c.sliding_window {
            SlidingWindow::CountBased(n) => c.minimum_calls.min(n),
            SlidingWindow::TimeBased(_) => c.minimum_calls,
        };
        let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Ok(CircuitBreaker {
            state: AtomicU64::new(CLOSED),
            half_open_slots: AtomicU64::new(0),
            half_open_tally: AtomicU64::new(0),
            opened_at: AtomicU64::new(0),
            not_permitted: pool_metrics::Counter::new(),
            window,
            min_calls: u64::from(min_calls),
            slow_nanos: c.slow_call_duration.map_or(u64::MAX, nanos),
            wait_nanos: nanos(c.wait_in_open),
            config: self.config,
            listener: self.listener,
            clock: self.clock,
        })
    }
}

enum Window {
    Count(CountWindow),
    Time(TimeWindow),
}

/// A circuit breaker.
///
/// # Examples
///
/// ```
/// use pool_core::{CallError, CircuitBreaker, CircuitState, SlidingWindow};
///
/// let breaker = CircuitBreaker::builder()
///     .sliding_window(SlidingWindow::CountBased(4))
///     .minimum_calls(4)
///     .build()
///     .unwrap();
/// for _ in 0..4 {
///     let _ = breaker.call(|| Err::<(), _>("backend down"));
/// }
/// assert_eq!(breaker.state(), CircuitState::Open);
/// assert!(matches!(breaker.call(|| Ok::<_, ()>(1)), Err(CallError::NotPermitted(_))));
/// ```
pub struct CircuitBreaker<C: Clock = MonotonicClock> {
    /// `epoch << 2 | state`.
    state: AtomicU64,
    /// `epoch32 << 32 | permits left` for the current half-open episode.
    half_open_slots: AtomicU64,
    /// `epoch32 << 32 | done << 16 | slow` for the current half-open episode.
    half_open_tally: AtomicU64,
    opened_at: AtomicU64,
    not_permitted: pool_metrics::Counter,
    window: Window,
    min_calls: u64,
    slow_nanos: u64,
    wait_nanos: u64,
    config: BreakerConfig,
    listener: Option<Listener>,
    clock: C,
}

impl<C: Clock> fmt::Debug for CircuitBreaker<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("state", &self.state())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The breaker refused the call (open, or half-open with every probe permit taken).
///
/// # Examples
///
/// ```
/// let b = pool_core::CircuitBreaker::new();
/// b.force_open();
/// let err = b.try_acquire().unwrap_err();
/// assert_eq!(err.to_string(), "circuit breaker is open; call not permitted");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallNotPermitted {
    state: CircuitState,
}

impl CallNotPermitted {
    /// The state that refused the call.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::CircuitBreaker::new();
    /// b.force_open();
    /// assert_eq!(b.try_acquire().unwrap_err().state(), pool_core::CircuitState::Open);
    /// ```
    #[must_use]
    pub fn state(&self) -> CircuitState {
        self.state
    }
}

impl fmt::Display for CallNotPermitted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.state {
            CircuitState::HalfOpen => f.write_str(
                "circuit breaker is half-open and its probe calls are taken; call not permitted",
            ),
            _ => f.write_str("circuit breaker is open; call not permitted"),
        }
    }
}

impl std::error::Error for CallNotPermitted {}

/// The result of [`CircuitBreaker::call`]: refused, or the call's own error.
///
/// # Examples
///
/// ```
/// use pool_core::{CallError, CircuitBreaker};
/// let b = CircuitBreaker::new();
/// assert!(matches!(b.call(|| Err::<(), _>(7)), Err(CallError::Inner(7))));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallError<E> {
    /// The breaker did not run the call.
    NotPermitted(CallNotPermitted),
    /// The call ran and failed.
    Inner(E),
}

impl<E: fmt::Display> fmt::Display for CallError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPermitted(e) => e.fmt(f),
            Self::Inner(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for CallError<E> {}

/// Metrics of the breaker's current window.
///
/// # Examples
///
/// ```
/// let b = pool_core::CircuitBreaker::new();
/// b.call(|| Ok::<_, ()>(())).unwrap();
/// let m = b.metrics();
/// assert_eq!((m.buffered_calls, m.failed_calls), (1, 0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct BreakerMetrics {
    /// The current state.
    pub state: CircuitState,
    /// Calls in the window.
    pub buffered_calls: u64,
    /// Failed calls in the window.
    pub failed_calls: u64,
    /// Slow calls in the window.
    pub slow_calls: u64,
    /// Failure rate in percent, or `None` below the minimum number of calls.
    pub failure_rate: Option<f64>,
    /// Slow-call rate in percent, or `None` below the minimum number of calls.
    pub slow_call_rate: Option<f64>,
    /// Calls refused since the breaker was built.
    pub not_permitted_calls: u64,
}

/// Permission to make one call; report its outcome with [`Permit::success`] or
/// [`Permit::failure`]. Dropping it unreported (say, the call panicked) counts as a failure.
///
/// # Examples
///
/// ```
/// let b = pool_core::CircuitBreaker::new();
/// let permit = b.try_acquire().unwrap();
/// permit.success();
/// ```
#[must_use = "report the call's outcome, or it counts as a failure"]
pub struct Permit<'a, C: Clock = MonotonicClock> {
    breaker: &'a CircuitBreaker<C>,
    word: u64,
    start: u64,
    done: bool,
}

impl<C: Clock> fmt::Debug for Permit<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").field("state", &decode(self.word)).finish_non_exhaustive()
    }
}

impl<C: Clock> Permit<'_, C> {
    /// The call succeeded.
    ///
    /// # Examples
    ///
    /// ```
    /// pool_core::CircuitBreaker::new().try_acquire().unwrap().success();
    /// ```
    pub fn success(mut self) {
        self.done = true;
        self.breaker.on_outcome(self.word, self.start, false);
    }

    /// The call failed.
    ///
    /// # Examples
    ///
    /// ```
    /// pool_core::CircuitBreaker::new().try_acquire().unwrap().failure();
    /// ```
    pub fn failure(mut self) {
        self.done = true;
        self.breaker.on_outcome(self.word, self.start, true);
    }
}

impl<C: Clock> Drop for Permit<'_, C> {
    fn drop(&mut self) {
        if !self.done {
            self.breaker.on_outcome(self.word, self.start, true);
        }
    }
}

impl CircuitBreaker<MonotonicClock> {
    /// A breaker with every default (see the `DEFAULT_*` constants).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::CircuitBreaker::new();
    /// assert!(b.try_acquire().is_ok());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        match Self::builder().build() {
            Ok(b) => b,
            // The defaults are valid by construction; a unit test checks it.
            Err(e) => unreachable!("default breaker config rejected: {e}"),
        }
    }

    /// A builder with every default.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::CircuitBreaker::builder().minimum_calls(1).build().unwrap();
    /// # let _ = b;
    /// ```
    pub fn builder() -> CircuitBreakerBuilder<MonotonicClock> {
        CircuitBreakerBuilder {
            config: BreakerConfig {
                sliding_window: DEFAULT_SLIDING_WINDOW,
                minimum_calls: DEFAULT_MINIMUM_CALLS,
                failure_rate_threshold: DEFAULT_FAILURE_RATE_THRESHOLD,
                slow_call_rate_threshold: DEFAULT_SLOW_CALL_RATE_THRESHOLD,
                slow_call_duration: None,
                wait_in_open: DEFAULT_WAIT_IN_OPEN,
                permitted_calls_in_half_open: DEFAULT_PERMITTED_CALLS_IN_HALF_OPEN,
            },
            listener: None,
            clock: MonotonicClock::new(),
        }
    }
}

impl Default for CircuitBreaker<MonotonicClock> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Clock> CircuitBreaker<C> {
    /// The effective configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::CircuitBreaker::new().config().failure_rate_threshold, 50.0);
    /// ```
    #[must_use]
    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    /// The current state (open stays open here until a call asks after the wait).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::CircuitBreaker::new().state(), pool_core::CircuitState::Closed);
    /// ```
    #[must_use]
    pub fn state(&self) -> CircuitState {
        decode(self.state.load(Ordering::Acquire))
    }

    /// Whether a call would be permitted now, without taking a permit (a bare check: one atomic
    /// load when closed).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(pool_core::CircuitBreaker::new().is_call_permitted());
    /// ```
    #[inline]
    #[must_use]
    pub fn is_call_permitted(&self) -> bool {
        let w = self.state.load(Ordering::Acquire);
        match w & 3 {
            CLOSED => true,
            OPEN => self.clock.now_nanos() >= self.open_until(),
            _ => {
                let slots = self.half_open_slots.load(Ordering::Acquire);
                slots >> 32 == (w >> 2) & 0xFFFF_FFFF && slots & 0xFFFF_FFFF > 0
            }
        }
    }

    fn open_until(&self) -> u64 {
        self.opened_at.load(Ordering::Acquire).saturating_add(self.wait_nanos)
    }

    /// Takes a permit for one call.
    ///
    /// # Errors
    ///
    /// [`CallNotPermitted`] when open (and the wait has not passed) or when half-open with every
    /// probe permit taken.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::CircuitBreaker::new();
    /// let p = b.try_acquire().unwrap();
    /// p.success();
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Result<Permit<'_, C>, CallNotPermitted> {
        let mut w = self.state.load(Ordering::Acquire);
        // Each retry follows a state change made by some thread, so this converges; the bound
        // turns a pathological storm of transitions into a refusal instead of a spin.
        for _ in 0..8 {
            match w & 3 {
                CLOSED => return Ok(self.permit(w)),
                OPEN => {
                    if self.clock.now_nanos() < self.open_until() {
                        break;
                    }
                    self.transition(w, HALF_OPEN);
                    w = self.state.load(Ordering::Acquire);
                }
                _ => {
                    let e32 = (w >> 2) & 0xFFFF_FFFF;
                    let mut slots = self.half_open_slots.load(Ordering::Acquire);
                    loop {
                        if slots >> 32 != e32 || slots & 0xFFFF_FFFF == 0 {
                            return Err(self.refuse(w));
                        }
                        match self.half_open_slots.compare_exchange_weak(
                            slots,
                            slots - 1,
                            Ordering::AcqRel,
                            Ordering::Acquire,
                        ) {
                            Ok(_) => return Ok(self.permit(w)),
                            Err(seen) => slots = seen,
                        }
                    }
                }
            }
        }
        Err(self.refuse(w))
    }

    fn refuse(&self, w: u64) -> CallNotPermitted {
        self.not_permitted.inc();
        CallNotPermitted { state: decode(w) }
    }

    #[inline]
    fn permit(&self, word: u64) -> Permit<'_, C> {
        let start = if self.slow_nanos == u64::MAX { 0 } else { self.clock.now_nanos() };
        Permit { breaker: self, word, start, done: false }
    }

    /// Runs `f` if permitted and records its outcome (`Err` is a failure; a panic too).
    ///
    /// # Errors
    ///
    /// [`CallError::NotPermitted`] without running `f`, or [`CallError::Inner`] with `f`'s error.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::CircuitBreaker::new();
    /// assert_eq!(b.call(|| Ok::<_, ()>(2 + 2)), Ok(4));
    /// ```
    #[inline]
    pub fn call<T, E>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, CallError<E>> {
        let permit = self.try_acquire().map_err(CallError::NotPermitted)?;
        match f() {
            Ok(v) => {
                permit.success();
                Ok(v)
            }
            Err(e) => {
                permit.failure();
                Err(CallError::Inner(e))
            }
        }
    }

    /// Runs the future `f` if permitted and records its outcome.
    ///
    /// # Errors
    ///
    /// As [`CircuitBreaker::call`]. A future dropped before completion counts as a failure.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "async")] {
    /// let b = pool_core::CircuitBreaker::new();
    /// let r = futures::executor::block_on(b.call_async(async { Ok::<_, ()>(1) }));
    /// assert_eq!(r, Ok(1));
    /// # }
    /// ```
    #[cfg(feature = "async")]
    pub async fn call_async<T, E>(
        &self,
        f: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, CallError<E>> {
        let permit = self.try_acquire().map_err(CallError::NotPermitted)?;
        match f.await {
            Ok(v) => {
                permit.success();
                Ok(v)
            }
            Err(e) => {
                permit.failure();
                Err(CallError::Inner(e))
            }
        }
    }

    #[inline]
    fn on_outcome(&self, word: u64, start: u64, failed: bool) {
        let now = if self.slow_nanos == u64::MAX { 0 } else { self.clock.now_nanos() };
        let slow = self.slow_nanos != u64::MAX && now.saturating_sub(start) > self.slow_nanos;
        match word & 3 {
            CLOSED => {
                // An outcome from an earlier closed episode must not count in this one.
                if self.state.load(Ordering::Acquire) != word {
                    return;
                }
                let outcome = CALL | if failed { FAILED } else { 0 } | if slow { SLOW } else { 0 };
                let counts = match &self.window {
                    Window::Count(w) => w.record(outcome),
                    Window::Time(w) => w.record(self.clock.now_nanos(), outcome),
                };
                if counts.calls >= self.min_calls && self.exceeds(counts) {
                    self.transition(word, OPEN);
                }
            }
            HALF_OPEN => self.on_probe_outcome(word, failed, slow),
            _ => {}
        }
    }

    fn exceeds(&self, c: Counts) -> bool {
        let calls = c.calls as f64;
        c.failed as f64 * 100.0 >= self.config.failure_rate_threshold * calls
            || c.slow as f64 * 100.0 >= self.config.slow_call_rate_threshold * calls
    }

    fn on_probe_outcome(&self, word: u64, failed: bool, slow: bool) {
        if failed {
            self.transition(word, OPEN);
            return;
        }
        let e32 = (word >> 2) & 0xFFFF_FFFF;
        let k = u64::from(self.config.permitted_calls_in_half_open);
        let mut tally = self.half_open_tally.load(Ordering::Acquire);
        let next = loop {
            let base = if tally >> 32 == e32 { tally } else { e32 << 32 };
            let next = base + (1 << 16) + u64::from(slow);
            match self.half_open_tally.compare_exchange_weak(
                tally,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break next,
                Err(seen) => tally = seen,
            }
        };
        let done = (next >> 16) & 0xFFFF;
        if done == k {
            let slow_calls = next & 0xFFFF;
            let to = if slow_calls as f64 * 100.0 >= self.config.slow_call_rate_threshold * k as f64
            {
                OPEN
            } else {
                CLOSED
            };
            self.transition(word, to);
        }
    }

    /// Moves from exactly `from` (state word) to `to`; returns whether this thread won.
    fn transition(&self, from: u64, to: u64) -> bool {
        let next = ((from >> 2).wrapping_add(1) << 2) | to;
        match to {
            // Published before the state word, so whoever sees OPEN sees this episode's time.
            OPEN => self.opened_at.store(self.clock.now_nanos(), Ordering::Release),
            // Only the single thread completing the probes gets here; the window starts empty.
            CLOSED => self.reset_window(),
            // Primed before the state word too: a caller that sees the new half-open state finds
            // its permits ready (no caller is refused while permits remain).
            _ => self.prime_half_open((next >> 2) & 0xFFFF_FFFF),
        }
        if self.state.compare_exchange(from, next, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return false;
        }
        if let Some(listener) = &self.listener {
            listener(StateTransition { from: decode(from), to: decode(next) });
        }
        true
    }

    /// Sets `K` permits for half-open episode `e32`, once: only a counter that belongs to an
    /// *older* episode is replaced, so neither a racing contender for the same transition nor a
    /// stale thread can refill an episode whose permits are already being taken.
    fn prime_half_open(&self, e32: u64) {
        let k = u64::from(self.config.permitted_calls_in_half_open);
        let mut cur = self.half_open_slots.load(Ordering::Acquire);
        loop {
            // Wrapping comparison of 32-bit epochs: is `cur`'s episode strictly older?
            let older = (e32.wrapping_sub(cur >> 32) & 0xFFFF_FFFF) as u32 as i32 > 0;
            if !older {
                return;
            }
            match self.half_open_slots.compare_exchange_weak(
                cur,
                (e32 << 32) | k,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(seen) => cur = seen,
            }
        }
    }

    fn reset_window(&self) {
        match &self.window {
            Window::Count(w) => w.reset(),
            Window::Time(w) => w.reset(),
        }
    }

    /// Opens the breaker now (an operator's switch); it probes again after the wait.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::CircuitBreaker::new();
    /// b.force_open();
    /// assert_eq!(b.state(), pool_core::CircuitState::Open);
    /// ```
    pub fn force_open(&self) {
        for _ in 0..8 {
            let w = self.state.load(Ordering::Acquire);
            if w & 3 == OPEN || self.transition(w, OPEN) {
                return;
            }
        }
    }

    /// Closes the breaker now with an empty window.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::CircuitBreaker::new();
    /// b.force_open();
    /// b.reset();
    /// assert_eq!(b.state(), pool_core::CircuitState::Closed);
    /// ```
    pub fn reset(&self) {
        for _ in 0..8 {
            let w = self.state.load(Ordering::Acquire);
            if self.transition(w, CLOSED) {
                return;
            }
        }
    }

    /// The window's counts and rates, the state, and refused calls.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::CircuitBreaker::new();
    /// assert_eq!(b.metrics().failure_rate, None); // fewer than minimum_calls
    /// ```
    #[must_use]
    pub fn metrics(&self) -> BreakerMetrics {
        let c = match &self.window {
            Window::Count(w) => w.counts(),
            Window::Time(w) => w.counts(self.clock.now_nanos()),
        };
        let rate = |n: u64| (c.calls >= self.min_calls).then(|| n as f64 * 100.0 / c.calls as f64);
        BreakerMetrics {
            state: self.state(),
            buffered_calls: c.calls,
            failed_calls: c.failed,
            slow_calls: c.slow,
            failure_rate: rate(c.failed),
            slow_call_rate: rate(c.slow),
            not_permitted_calls: self.not_permitted.get(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pool_metrics::ManualClock;
    use std::sync::Mutex as StdMutex;

    fn breaker(clock: &ManualClock, k: u32) -> CircuitBreaker<ManualClock> {
        CircuitBreaker::builder()
            .sliding_window(SlidingWindow::CountBased(10))
            .minimum_calls(4)
            .failure_rate_threshold(50.0)
            .wait_in_open(Duration::from_secs(1))
            .permitted_calls_in_half_open(k)
            .clock(clock.clone())
            .build()
            .unwrap()
    }

    #[test]
    fn defaults_are_valid() {
        let _ = CircuitBreaker::new();
    }

    #[test]
    fn opens_at_threshold_after_minimum_calls() {
        let clock = ManualClock::new();
        let b = breaker(&clock, 2);
        b.call(|| Err::<(), _>(())).unwrap_err();
        b.call(|| Err::<(), _>(())).unwrap_err();
        b.call(|| Ok::<_, ()>(())).unwrap();
        assert_eq!(b.state(), CircuitState::Closed, "3 calls < minimum 4");
        b.call(|| Ok::<_, ()>(())).unwrap();
        assert_eq!(b.state(), CircuitState::Open, "2/4 = 50% >= 50%");
    }

    #[test]
    fn half_open_admits_k_then_closes_or_reopens() {
        let clock = ManualClock::new();
        let seen = std::sync::Arc::new(StdMutex::new(Vec::new()));
        let s2 = seen.clone();
        let b = CircuitBreaker::builder()
            .sliding_window(SlidingWindow::CountBased(2))
            .minimum_calls(1)
            .wait_in_open(Duration::from_secs(1))
            .permitted_calls_in_half_open(2)
            .on_state_change(move |t| s2.lock().unwrap().push(t.to))
            .clock(clock.clone())
            .build()
            .unwrap();
        b.call(|| Err::<(), _>(())).unwrap_err();
        assert!(b.try_acquire().is_err());
        clock.advance(Duration::from_secs(1));
        let p1 = b.try_acquire().unwrap();
        let p2 = b.try_acquire().unwrap();
        assert_eq!(b.try_acquire().unwrap_err().state(), CircuitState::HalfOpen);
        p1.success();
        p2.success();
        assert_eq!(b.state(), CircuitState::Closed);
        assert_eq!(b.metrics().buffered_calls, 0, "closing starts an empty window");
        b.call(|| Err::<(), _>(())).unwrap_err();
        clock.advance(Duration::from_secs(1));
        b.try_acquire().unwrap().failure();
        assert_eq!(b.state(), CircuitState::Open);
        use CircuitState::*;
        assert_eq!(*seen.lock().unwrap(), vec![Open, HalfOpen, Closed, Open, HalfOpen, Open]);
    }

    #[test]
    fn late_outcome_from_closed_does_not_count_as_probe() {
        let clock = ManualClock::new();
        let b = breaker(&clock, 1);
        let late = b.try_acquire().unwrap();
        b.force_open();
        clock.advance(Duration::from_secs(1));
        let probe = b.try_acquire().unwrap();
        late.failure(); // from the closed episode: ignored
        assert_eq!(b.state(), CircuitState::HalfOpen);
        probe.success();
        assert_eq!(b.state(), CircuitState::Closed);
    }

    #[test]
    fn slow_calls_open_the_breaker() {
        let clock = ManualClock::new();
        let b = CircuitBreaker::builder()
            .sliding_window(SlidingWindow::CountBased(2))
            .minimum_calls(2)
            .slow_call_duration(Duration::from_millis(10))
            .slow_call_rate_threshold(100.0)
            .clock(clock.clone())
            .build()
            .unwrap();
        for _ in 0..2 {
            b.call(|| {
                clock.advance(Duration::from_millis(11));
                Ok::<_, ()>(())
            })
            .unwrap();
        }
        assert_eq!(b.state(), CircuitState::Open);
        assert_eq!(b.metrics().slow_calls, 2);
    }

    #[test]
    fn time_window_counts_recent_seconds_only() {
        let clock = ManualClock::new();
        let b = CircuitBreaker::builder()
            .sliding_window(SlidingWindow::TimeBased(2))
            .minimum_calls(3)
            .clock(clock.clone())
            .build()
            .unwrap();
        b.call(|| Err::<(), _>(())).unwrap_err();
        b.call(|| Err::<(), _>(())).unwrap_err();
        clock.advance(Duration::from_secs(5));
        b.call(|| Err::<(), _>(())).unwrap_err();
        assert_eq!(b.state(), CircuitState::Closed, "the first two slid out of the window");
        assert_eq!(b.metrics().buffered_calls, 1);
    }

    #[test]
    fn bad_config_is_rejected() {
        let b = || CircuitBreaker::builder();
        assert!(b().failure_rate_threshold(0.0).build().is_err());
        assert!(b().failure_rate_threshold(100.5).build().is_err());
        assert!(b().slow_call_rate_threshold(f64::NAN).build().is_err());
        assert!(b().wait_in_open(Duration::ZERO).build().is_err());
        assert!(b().slow_call_duration(Duration::ZERO).build().is_err());
        assert!(b().sliding_window(SlidingWindow::TimeBased(0)).build().is_err());
        assert_eq!(
            b().permitted_calls_in_half_open(70_000).build().unwrap_err().to_string(),
            "permitted_calls_in_half_open must be <= 65535, got 70000"
        );
    }
}
