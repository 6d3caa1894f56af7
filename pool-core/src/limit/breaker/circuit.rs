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
use std::sync::Arc;

use pool_metrics::{Clock, MonotonicClock};

use super::builder::{CircuitBreakerBuilder, CircuitBreakerConfig, Listener};
use super::error::{CallError, CallNotPermitted};
use super::permit::BreakerPermit;
use super::state::{CLOSED, CircuitState, HALF_OPEN, OPEN, StateTransition, decode};
use crate::limit::window::{CALL, CountWindow, Counts, FAILED, SLOW, TimeWindow};
use crate::sync::{AtomicU64, Ordering};

pub(super) enum Window {
    Count(CountWindow),
    Time(TimeWindow),
}

/// A circuit breaker.
///
/// A cheap handle: clones share one breaker (one `Arc`), so hand a clone to every thread or
/// task that calls the same backend.
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
/// let shared = breaker.clone();
/// std::thread::spawn(move || {
///     for _ in 0..4 {
///         let _ = shared.call(|| Err::<(), _>("backend down"));
///     }
/// })
/// .join()
/// .unwrap();
/// assert_eq!(breaker.state(), CircuitState::Open);
/// assert!(matches!(breaker.call(|| Ok::<_, ()>(1)), Err(CallError::NotPermitted(_))));
/// ```
#[derive(Clone)]
pub struct CircuitBreaker {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    /// `epoch << 2 | state`.
    pub(super) state: AtomicU64,
    /// `epoch32 << 32 | permits left` for the current half-open episode.
    pub(super) half_open_slots: AtomicU64,
    /// `epoch32 << 32 | done << 16 | slow` for the current half-open episode.
    pub(super) half_open_tally: AtomicU64,
    pub(super) opened_at: AtomicU64,
    pub(super) not_permitted: pool_metrics::Counter,
    pub(super) window: Window,
    pub(super) min_calls: u64,
    pub(super) slow_nanos: u64,
    pub(super) wait_nanos: u64,
    pub(super) config: CircuitBreakerConfig,
    pub(super) listener: Option<Listener>,
    pub(super) clock: Arc<dyn Clock>,
    /// The metrics last exported (so exports add deltas).
    pub(super) exported: crate::sync::Mutex<super::export::Exported>,
    /// State changes made, by target state (`CLOSED`, `OPEN`, `HALF_OPEN`).
    pub(super) transitions: [AtomicU64; 3],
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("state", &self.state())
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

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
pub struct CircuitBreakerMetrics {
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

impl CircuitBreaker {
    /// A breaker with every default (see the `DEFAULT_*` constants of [`CircuitBreakerConfig`]). Infallible:
    /// the defaults are valid.
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
    /// use pool_core::CircuitBreaker;
    /// let b = CircuitBreaker::builder().build().unwrap();
    /// assert_eq!(b.config().minimum_calls, pool_core::CircuitBreakerConfig::DEFAULT_MINIMUM_CALLS);
    /// assert_eq!(b.config().sliding_window, pool_core::CircuitBreakerConfig::DEFAULT_SLIDING_WINDOW);
    /// ```
    pub fn builder() -> CircuitBreakerBuilder {
        CircuitBreakerBuilder {
            config: CircuitBreakerConfig {
                sliding_window: CircuitBreakerConfig::DEFAULT_SLIDING_WINDOW,
                minimum_calls: CircuitBreakerConfig::DEFAULT_MINIMUM_CALLS,
                failure_rate_threshold: CircuitBreakerConfig::DEFAULT_FAILURE_RATE_THRESHOLD,
                slow_call_rate_threshold: CircuitBreakerConfig::DEFAULT_SLOW_CALL_RATE_THRESHOLD,
                slow_call_duration: None,
                wait_in_open: CircuitBreakerConfig::DEFAULT_WAIT_IN_OPEN,
                permitted_calls_in_half_open:
                    CircuitBreakerConfig::DEFAULT_PERMITTED_CALLS_IN_HALF_OPEN,
            },
            minimum_calls_set: false,
            listener: None,
            clock: Arc::new(MonotonicClock::new()),
        }
    }
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        Self::new()
    }
}

impl CircuitBreaker {
    /// The effective configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::CircuitBreaker::new().config().failure_rate_threshold, 50.0);
    /// ```
    #[must_use]
    pub fn config(&self) -> &CircuitBreakerConfig {
        &self.inner.config
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
        decode(self.inner.state.load(Ordering::Acquire))
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
        let w = self.inner.state.load(Ordering::Acquire);
        match w & 3 {
            CLOSED => true,
            OPEN => self.inner.clock.now_nanos() >= self.open_until(),
            _ => {
                let slots = self.inner.half_open_slots.load(Ordering::Acquire);
                slots >> 32 == (w >> 2) & 0xFFFF_FFFF && slots & 0xFFFF_FFFF > 0
            }
        }
    }

    fn open_until(&self) -> u64 {
        self.inner.opened_at.load(Ordering::Acquire).saturating_add(self.inner.wait_nanos)
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
    /// b.force_open();
    /// assert!(b.try_acquire().is_err());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Result<BreakerPermit<'_>, CallNotPermitted> {
        let mut w = self.inner.state.load(Ordering::Acquire);
        // Each retry follows a state change made by some thread, so this converges; the bound
        // turns a pathological storm of transitions into a refusal instead of a spin.
        for _ in 0..8 {
            match w & 3 {
                CLOSED => return Ok(self.permit(w)),
                OPEN => {
                    if self.inner.clock.now_nanos() < self.open_until() {
                        break;
                    }
                    self.transition(w, HALF_OPEN);
                    w = self.inner.state.load(Ordering::Acquire);
                }
                _ => {
                    let e32 = (w >> 2) & 0xFFFF_FFFF;
                    let mut slots = self.inner.half_open_slots.load(Ordering::Acquire);
                    loop {
                        if slots >> 32 != e32 || slots & 0xFFFF_FFFF == 0 {
                            return Err(self.refuse(w));
                        }
                        match self.inner.half_open_slots.compare_exchange_weak(
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
        self.inner.not_permitted.inc();
        CallNotPermitted { state: decode(w) }
    }

    #[inline]
    fn permit(&self, word: u64) -> BreakerPermit<'_> {
        let start =
            if self.inner.slow_nanos == u64::MAX { 0 } else { self.inner.clock.now_nanos() };
        BreakerPermit { breaker: self, word, start, done: false }
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
    pub(super) fn on_outcome(&self, word: u64, start: u64, failed: bool) {
        let now = if self.inner.slow_nanos == u64::MAX { 0 } else { self.inner.clock.now_nanos() };
        let slow =
            self.inner.slow_nanos != u64::MAX && now.saturating_sub(start) > self.inner.slow_nanos;
        match word & 3 {
            CLOSED => {
                // An outcome from an earlier closed episode must not count in this one.
                if self.inner.state.load(Ordering::Acquire) != word {
                    return;
                }
                let outcome = CALL | if failed { FAILED } else { 0 } | if slow { SLOW } else { 0 };
                let counts = match &self.inner.window {
                    Window::Count(w) => w.record(outcome),
                    Window::Time(w) => w.record(self.inner.clock.now_nanos(), outcome),
                };
                if counts.calls >= self.inner.min_calls && self.exceeds(counts) {
                    self.transition(word, OPEN);
                }
            }
            HALF_OPEN => self.on_probe_outcome(word, failed, slow),
            _ => {}
        }
    }

    fn exceeds(&self, c: Counts) -> bool {
        let calls = c.calls as f64;
        c.failed as f64 * 100.0 >= self.inner.config.failure_rate_threshold * calls
            || c.slow as f64 * 100.0 >= self.inner.config.slow_call_rate_threshold * calls
    }

    fn on_probe_outcome(&self, word: u64, failed: bool, slow: bool) {
        if failed {
            self.transition(word, OPEN);
            return;
        }
        let e32 = (word >> 2) & 0xFFFF_FFFF;
        let k = u64::from(self.inner.config.permitted_calls_in_half_open);
        let mut tally = self.inner.half_open_tally.load(Ordering::Acquire);
        let next = loop {
            let base = if tally >> 32 == e32 { tally } else { e32 << 32 };
            let next = base + (1 << 16) + u64::from(slow);
            match self.inner.half_open_tally.compare_exchange_weak(
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
            let to = if slow_calls as f64 * 100.0
                >= self.inner.config.slow_call_rate_threshold * k as f64
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
            OPEN => self.inner.opened_at.store(self.inner.clock.now_nanos(), Ordering::Release),
            // Only the single thread completing the probes gets here; the window starts empty.
            CLOSED => self.reset_window(),
            // Primed before the state word too: a caller that sees the new half-open state finds
            // its permits ready (no caller is refused while permits remain).
            _ => self.prime_half_open((next >> 2) & 0xFFFF_FFFF),
        }
        if self
            .inner
            .state
            .compare_exchange(from, next, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return false;
        }
        self.inner.transitions[to as usize].fetch_add(1, Ordering::Relaxed);
        if let Some(listener) = &self.inner.listener {
            listener(StateTransition { from: decode(from), to: decode(next) });
        }
        true
    }

    /// Sets `K` permits for half-open episode `e32`, once: only a counter that belongs to an
    /// *older* episode is replaced, so neither a racing contender for the same transition nor a
    /// stale thread can refill an episode whose permits are already being taken.
    fn prime_half_open(&self, e32: u64) {
        let k = u64::from(self.inner.config.permitted_calls_in_half_open);
        let mut cur = self.inner.half_open_slots.load(Ordering::Acquire);
        loop {
            // Wrapping comparison of 32-bit epochs: is `cur`'s episode strictly older?
            let older = (e32.wrapping_sub(cur >> 32) & 0xFFFF_FFFF) as u32 as i32 > 0;
            if !older {
                return;
            }
            match self.inner.half_open_slots.compare_exchange_weak(
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
        match &self.inner.window {
            Window::Count(w) => w.reset(),
            Window::Time(w) => w.reset(),
        }
    }

    /// Opens the breaker now (an operator's switch); it probes again after the wait. Always
    /// succeeds: when it returns the breaker is open (until the wait passes, or until a
    /// concurrent [`reset`](Self::reset) closes it again).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::CircuitBreaker::new();
    /// b.force_open();
    /// assert_eq!(b.state(), pool_core::CircuitState::Open);
    /// ```
    pub fn force_open(&self) {
        // A lost compare-exchange means another thread changed the state meanwhile, so the
        // loop is lock-free (some thread always makes progress) and ends once ours lands. It
        // used to give up after eight tries, leaving the breaker closed without a word.
        loop {
            let w = self.inner.state.load(Ordering::Acquire);
            if w & 3 == OPEN || self.transition(w, OPEN) {
                return;
            }
        }
    }

    /// Closes the breaker now with an empty window. Always succeeds, as
    /// [`force_open`](Self::force_open) does.
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
        loop {
            let w = self.inner.state.load(Ordering::Acquire);
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
    pub fn metrics(&self) -> CircuitBreakerMetrics {
        let c = match &self.inner.window {
            Window::Count(w) => w.counts(),
            Window::Time(w) => w.counts(self.inner.clock.now_nanos()),
        };
        let rate =
            |n: u64| (c.calls >= self.inner.min_calls).then(|| n as f64 * 100.0 / c.calls as f64);
        CircuitBreakerMetrics {
            state: self.state(),
            buffered_calls: c.calls,
            failed_calls: c.failed,
            slow_calls: c.slow,
            failure_rate: rate(c.failed),
            slow_call_rate: rate(c.slow),
            not_permitted_calls: self.inner.not_permitted.get(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SlidingWindow;
    use pool_metrics::ManualClock;
    use std::sync::Mutex as StdMutex;
    use std::time::Duration;

    fn breaker(clock: &ManualClock, k: u32) -> CircuitBreaker {
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
