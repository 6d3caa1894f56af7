//! `ConcurrencyController`: at most N calls at once, at most Q queued (FIFO), per-call timeout,
//! retries with exponential backoff, full jitter and a retry budget, and exact statistics.
//!
//! All counters change under the controller's one lock, in the same critical section as the
//! permit they describe, so any snapshot satisfies
//! `submitted == completed + failed + rejected + timed_out + in_flight` exactly.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use crate::sync::{Arc, AtomicU64, Mutex, Ordering, lock};

/// Default calls running at once.
pub const DEFAULT_MAX_CONCURRENT: usize = 16;
/// Default calls allowed to wait for a permit.
pub const DEFAULT_MAX_QUEUED: usize = 256;
/// Default retries after the first attempt.
pub const DEFAULT_MAX_RETRIES: u32 = 0;
/// Default first backoff (doubled per retry, capped at [`DEFAULT_MAX_BACKOFF`]).
pub const DEFAULT_BASE_BACKOFF: Duration = Duration::from_millis(10);
/// Default cap on one backoff.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(1);
/// Default retry budget: retries may add at most this fraction of first attempts (as Finagle's
/// `RetryBudget`), on top of [`DEFAULT_RETRY_BUDGET_RESERVE`].
pub const DEFAULT_RETRY_BUDGET_RATIO: f64 = 0.2;
/// Default retries allowed before any first attempt has earned budget.
pub const DEFAULT_RETRY_BUDGET_RESERVE: u32 = 10;

/// Why a controlled call did not produce a value.
///
/// # Examples
///
/// ```
/// use pool_core::{ConcurrencyController, ControllerError};
/// let c = ConcurrencyController::new(1);
/// assert!(matches!(c.run(|| Err::<(), _>("no")), Err(ControllerError::Inner("no"))));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ControllerError<E> {
    /// Every permit was taken and `max_queued` callers were already waiting.
    QueueFull,
    /// The call's timeout passed while waiting (or, for async calls, while running).
    TimedOut {
        /// Time from submission to giving up.
        waited: Duration,
    },
    /// The call ran and failed (after any retries); its last error.
    Inner(E),
}

impl<E: fmt::Display> fmt::Display for ControllerError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::QueueFull => f.write_str(
                "too many calls waiting; raise max_queued or max_concurrent, or shed load",
            ),
            Self::TimedOut { waited } => write!(f, "call timed out after {waited:?}"),
            Self::Inner(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for ControllerError<E> {}

/// What is wrong with a controller configuration.
///
/// # Examples
///
/// ```
/// let err = pool_core::ConcurrencyController::builder().max_concurrent(0).build().unwrap_err();
/// assert_eq!(err.to_string(), "max_concurrent must be > 0, got 0");
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ControllerBuildError {
    /// `max_concurrent` was 0.
    ZeroMaxConcurrent,
    /// A timeout or backoff was zero; the field is named.
    ZeroDuration(&'static str),
    /// `base_backoff` was larger than `max_backoff`.
    BackoffOrder {
        /// The requested base.
        base: Duration,
        /// The requested cap.
        max: Duration,
    },
    /// The retry-budget ratio was negative, NaN or infinite.
    BudgetRatio(f64),
}

impl fmt::Display for ControllerBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroMaxConcurrent => f.write_str("max_concurrent must be > 0, got 0"),
            Self::ZeroDuration(name) => write!(f, "{name} must be > 0, got 0ns"),
            Self::BackoffOrder { base, max } => {
                write!(f, "base_backoff ({base:?}) must be <= max_backoff ({max:?})")
            }
            Self::BudgetRatio(r) => {
                write!(f, "retry budget ratio must be >= 0 and finite, got {r}")
            }
        }
    }
}

impl std::error::Error for ControllerBuildError {}

/// The controller's effective configuration.
///
/// # Examples
///
/// ```
/// let c = pool_core::ConcurrencyController::new(4);
/// assert_eq!(c.config().max_concurrent, 4);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ControllerConfig {
    /// Calls running at once.
    pub max_concurrent: usize,
    /// Calls waiting for a permit; one more is refused with `QueueFull` (0: never queue).
    pub max_queued: usize,
    /// Per-call timeout; `None` waits forever.
    pub timeout: Option<Duration>,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff; doubled per retry.
    pub base_backoff: Duration,
    /// Cap on one backoff.
    pub max_backoff: Duration,
    /// Fraction of first attempts that retries may add.
    pub retry_budget_ratio: f64,
    /// Retries allowed before any first attempt has earned budget.
    pub retry_budget_reserve: u32,
}

/// Builder for [`ConcurrencyController`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let c = pool_core::ConcurrencyController::builder()
///     .max_concurrent(4)
///     .max_queued(100)
///     .timeout(Duration::from_secs(2))
///     .max_retries(3)
///     .build()
///     .unwrap();
/// assert_eq!(c.config().max_retries, 3);
/// ```
#[must_use]
#[derive(Clone, Debug)]
pub struct ControllerBuilder {
    config: ControllerConfig,
}

macro_rules! knob {
    ($(#[$doc:meta])* $name:ident: $ty:ty => $field:ident = $val:expr) => {
        $(#[$doc])*
        pub fn $name(mut self, v: $ty) -> Self {
            self.config.$field = $val(v);
            self
        }
    };
}

impl ControllerBuilder {
    knob!(
        /// Calls running at once (default [`DEFAULT_MAX_CONCURRENT`]).
        ///
        /// # Examples
        ///
        /// ```
        /// let b = pool_core::ConcurrencyController::builder().max_concurrent(2);
        /// # let _ = b;
        /// ```
        max_concurrent: usize => max_concurrent = std::convert::identity
    );
    knob!(
        /// Calls allowed to wait (default [`DEFAULT_MAX_QUEUED`]).
        ///
        /// # Examples
        ///
        /// ```
        /// let b = pool_core::ConcurrencyController::builder().max_queued(0);
        /// # let _ = b;
        /// ```
        max_queued: usize => max_queued = std::convert::identity
    );
    knob!(
        /// Per-call timeout (default none).
        ///
        /// # Examples
        ///
        /// ```
        /// let b = pool_core::ConcurrencyController::builder().timeout(std::time::Duration::from_secs(1));
        /// # let _ = b;
        /// ```
        timeout: Duration => timeout = Some
    );
    knob!(
        /// Retries after the first attempt (default 0).
        ///
        /// # Examples
        ///
        /// ```
        /// let b = pool_core::ConcurrencyController::builder().max_retries(2);
        /// # let _ = b;
        /// ```
        max_retries: u32 => max_retries = std::convert::identity
    );
    knob!(
        /// First backoff (default 10 ms).
        ///
        /// # Examples
        ///
        /// ```
        /// let b = pool_core::ConcurrencyController::builder().base_backoff(std::time::Duration::from_millis(1));
        /// # let _ = b;
        /// ```
        base_backoff: Duration => base_backoff = std::convert::identity
    );
    knob!(
        /// Cap on one backoff (default 1 s).
        ///
        /// # Examples
        ///
        /// ```
        /// let b = pool_core::ConcurrencyController::builder().max_backoff(std::time::Duration::from_secs(5));
        /// # let _ = b;
        /// ```
        max_backoff: Duration => max_backoff = std::convert::identity
    );
    knob!(
        /// Retry budget: fraction of first attempts retries may add (default 0.2).
        ///
        /// # Examples
        ///
        /// ```
        /// let b = pool_core::ConcurrencyController::builder().retry_budget_ratio(0.1);
        /// # let _ = b;
        /// ```
        retry_budget_ratio: f64 => retry_budget_ratio = std::convert::identity
    );
    knob!(
        /// Retries allowed before first attempts earn budget (default 10).
        ///
        /// # Examples
        ///
        /// ```
        /// let b = pool_core::ConcurrencyController::builder().retry_budget_reserve(0);
        /// # let _ = b;
        /// ```
        retry_budget_reserve: u32 => retry_budget_reserve = std::convert::identity
    );

    /// Validates and builds.
    ///
    /// # Errors
    ///
    /// [`ControllerBuildError`] for zero `max_concurrent`, a zero timeout or backoff,
    /// `base_backoff > max_backoff`, or a negative / NaN budget ratio.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = pool_core::ConcurrencyController::builder()
    ///     .timeout(std::time::Duration::ZERO)
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.to_string(), "timeout must be > 0, got 0ns");
    /// ```
    pub fn build(self) -> Result<ConcurrencyController, ControllerBuildError> {
        let c = &self.config;
        if c.max_concurrent == 0 {
            return Err(ControllerBuildError::ZeroMaxConcurrent);
        }
        if c.timeout == Some(Duration::ZERO) {
            return Err(ControllerBuildError::ZeroDuration("timeout"));
        }
        if c.base_backoff.is_zero() {
            return Err(ControllerBuildError::ZeroDuration("base_backoff"));
        }
        if c.base_backoff > c.max_backoff {
            return Err(ControllerBuildError::BackoffOrder {
                base: c.base_backoff,
                max: c.max_backoff,
            });
        }
        if !(c.retry_budget_ratio.is_finite() && c.retry_budget_ratio >= 0.0) {
            return Err(ControllerBuildError::BudgetRatio(c.retry_budget_ratio));
        }
        let reserve = u64::from(c.retry_budget_reserve) * BUDGET_UNIT;
        Ok(ConcurrencyController {
            state: Mutex::new(CState {
                running: 0,
                queue: VecDeque::new(),
                stats: ControllerStats::default(),
                budget: reserve,
            }),
            deposit: (c.retry_budget_ratio * BUDGET_UNIT as f64) as u64,
            budget_cap: reserve.max(BUDGET_UNIT * 1000),
            rng: AtomicU64::new(seed()),
            config: self.config,
        })
    }
}

/// Budget is kept in thousandths of a retry so fractional ratios deposit exactly.
const BUDGET_UNIT: u64 = 1000;

fn seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    t | 1
}

/// Counters of a [`ConcurrencyController`], consistent with each other in every snapshot.
///
/// # Examples
///
/// ```
/// let c = pool_core::ConcurrencyController::new(2);
/// c.run(|| Ok::<_, ()>(())).unwrap();
/// let s = c.stats();
/// assert_eq!(s.submitted, s.completed + s.failed + s.rejected + s.timed_out + s.in_flight);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ControllerStats {
    /// Calls submitted.
    pub submitted: u64,
    /// Calls that returned `Ok`.
    pub completed: u64,
    /// Calls whose last attempt returned `Err`.
    pub failed: u64,
    /// Calls refused with `QueueFull`.
    pub rejected: u64,
    /// Calls that timed out.
    pub timed_out: u64,
    /// Calls submitted and not finished (queued, running or backing off).
    pub in_flight: u64,
    /// Calls holding a permit now.
    pub running: u64,
    /// Calls waiting for a permit now.
    pub queued: u64,
    /// Retry attempts made.
    pub retries: u64,
    /// Retries skipped because the budget was spent.
    pub retries_denied: u64,
}

type Waiter = Arc<Mutex<WaiterSlot>>;

struct WaiterSlot {
    granted: bool,
    thread: Option<std::thread::Thread>,
    #[cfg(feature = "async")]
    waker: Option<std::task::Waker>,
}

struct CState {
    running: usize,
    queue: VecDeque<Waiter>,
    stats: ControllerStats,
    /// Retry budget in thousandths of a retry.
    budget: u64,
}

/// Limits concurrency with a bounded FIFO queue, and runs calls with timeout and retries.
///
/// # Examples
///
/// ```
/// use pool_core::ConcurrencyController;
///
/// let c = ConcurrencyController::new(2);
/// let v = c.run(|| Ok::<_, std::io::Error>(21 * 2)).unwrap();
/// assert_eq!(v, 42);
/// assert_eq!(c.stats().completed, 1);
/// ```
pub struct ConcurrencyController {
    state: Mutex<CState>,
    deposit: u64,
    budget_cap: u64,
    rng: AtomicU64,
    config: ControllerConfig,
}

impl fmt::Debug for ConcurrencyController {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConcurrencyController")
            .field("config", &self.config)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// How a permit wait ended.
enum Admit {
    Now,
    Queued(Waiter),
    Full,
}

/// Outcome of one attempt, for the bookkeeping.
enum Finish {
    Completed,
    Failed,
    Rejected,
    TimedOut,
}

impl ConcurrencyController {
    /// A controller allowing `max_concurrent` calls at once, other knobs at their defaults.
    ///
    /// # Panics
    ///
    /// If `max_concurrent` is 0 (use the builder to get an error instead).
    ///
    /// # Examples
    ///
    /// ```
    /// let c = pool_core::ConcurrencyController::new(8);
    /// assert_eq!(c.config().max_queued, pool_core::DEFAULT_MAX_QUEUED);
    /// ```
    #[must_use]
    pub fn new(max_concurrent: usize) -> Self {
        match Self::builder().max_concurrent(max_concurrent).build() {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    /// A builder with every default.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = pool_core::ConcurrencyController::builder().build().unwrap();
    /// assert_eq!(c.config().max_concurrent, pool_core::DEFAULT_MAX_CONCURRENT);
    /// ```
    pub fn builder() -> ControllerBuilder {
        ControllerBuilder {
            config: ControllerConfig {
                max_concurrent: DEFAULT_MAX_CONCURRENT,
                max_queued: DEFAULT_MAX_QUEUED,
                timeout: None,
                max_retries: DEFAULT_MAX_RETRIES,
                base_backoff: DEFAULT_BASE_BACKOFF,
                max_backoff: DEFAULT_MAX_BACKOFF,
                retry_budget_ratio: DEFAULT_RETRY_BUDGET_RATIO,
                retry_budget_reserve: DEFAULT_RETRY_BUDGET_RESERVE,
            },
        }
    }

    /// The effective configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::ConcurrencyController::new(3).config().timeout, None);
    /// ```
    #[must_use]
    pub fn config(&self) -> &ControllerConfig {
        &self.config
    }

    /// A consistent snapshot of the counters.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::ConcurrencyController::new(3).stats().submitted, 0);
    /// ```
    #[must_use]
    pub fn stats(&self) -> ControllerStats {
        let s = lock(&self.state);
        let mut st = s.stats;
        st.running = s.running as u64;
        st.queued = s.queue.len() as u64;
        st
    }

    /// Runs `f` under the limit: waits (FIFO) for a permit up to the timeout, retries `Err`
    /// results with backoff while the retry count and budget allow. The permit is released
    /// during backoff.
    ///
    /// A synchronous call cannot be interrupted, so for `run` the timeout bounds the time spent
    /// waiting for permits; a running attempt always finishes (see [`Self::run_async`]).
    ///
    /// # Errors
    ///
    /// [`ControllerError::QueueFull`], [`ControllerError::TimedOut`], or
    /// [`ControllerError::Inner`] with the last attempt's error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = pool_core::ConcurrencyController::builder()
    ///     .max_retries(2)
    ///     .base_backoff(Duration::from_millis(1))
    ///     .build()
    ///     .unwrap();
    /// let mut attempts = 0;
    /// let r = c.run(|| { attempts += 1; if attempts < 3 { Err("flaky") } else { Ok(attempts) } });
    /// assert_eq!(r, Ok(3));
    /// assert_eq!(c.stats().retries, 2);
    /// ```
    pub fn run<T, E>(&self, mut f: impl FnMut() -> Result<T, E>) -> Result<T, ControllerError<E>> {
        let start = Instant::now();
        let deadline = self.config.timeout.and_then(|t| start.checked_add(t));
        self.submit();
        let mut attempt = 0u32;
        loop {
            match self.admit() {
                Admit::Now => {}
                Admit::Full => {
                    self.finish(false, Finish::Rejected);
                    return Err(ControllerError::QueueFull);
                }
                Admit::Queued(w) => {
                    if !self.wait_blocking(&w, deadline) {
                        self.finish(false, Finish::TimedOut);
                        return Err(ControllerError::TimedOut { waited: start.elapsed() });
                    }
                }
            }
            match f() {
                Ok(v) => {
                    self.finish(true, Finish::Completed);
                    return Ok(v);
                }
                Err(e) => match self.retry_delay(attempt, deadline) {
                    Some(delay) => {
                        self.release();
                        std::thread::sleep(delay);
                        attempt += 1;
                    }
                    None => {
                        self.finish(true, Finish::Failed);
                        return Err(ControllerError::Inner(e));
                    }
                },
            }
        }
    }

    /// The async counterpart of [`Self::run`]: `f` makes one attempt's future. The timeout
    /// covers waiting *and* running: an attempt still running at the deadline is dropped
    /// (cancelled) and the call reports `TimedOut`. Runtime-agnostic.
    ///
    /// # Errors
    ///
    /// As [`Self::run`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "async")] {
    /// let c = pool_core::ConcurrencyController::new(2);
    /// let r = futures::executor::block_on(c.run_async(|| async { Ok::<_, ()>(5) }));
    /// assert_eq!(r, Ok(5));
    /// # }
    /// ```
    #[cfg(feature = "async")]
    pub async fn run_async<T, E, Fut>(
        &self,
        mut f: impl FnMut() -> Fut,
    ) -> Result<T, ControllerError<E>>
    where
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        use crate::limit::sleep::Sleep;
        let start = Instant::now();
        let deadline = self.config.timeout.and_then(|t| start.checked_add(t));
        self.submit();
        // Keeps the books right if the caller drops this future midway.
        let mut guard = CallGuard { c: self, holds_permit: false, waiter: None, done: false };
        let mut attempt = 0u32;
        loop {
            match self.admit() {
                Admit::Now => guard.holds_permit = true,
                Admit::Full => {
                    guard.done = true;
                    self.finish(false, Finish::Rejected);
                    return Err(ControllerError::QueueFull);
                }
                Admit::Queued(w) => {
                    guard.waiter = Some(w.clone());
                    let granted =
                        PermitWait { c: self, w, sleep: deadline.map(Sleep::until) }.await;
                    guard.waiter = None;
                    if !granted {
                        guard.done = true;
                        self.finish(false, Finish::TimedOut);
                        return Err(ControllerError::TimedOut { waited: start.elapsed() });
                    }
                    guard.holds_permit = true;
                }
            }
            let outcome = match deadline {
                Some(d) => Deadline { fut: std::pin::pin!(f()), sleep: Sleep::until(d) }.await,
                None => Some(f().await),
            };
            match outcome {
                None => {
                    guard.done = true;
                    self.finish(true, Finish::TimedOut);
                    return Err(ControllerError::TimedOut { waited: start.elapsed() });
                }
                Some(Ok(v)) => {
                    guard.done = true;
                    self.finish(true, Finish::Completed);
                    return Ok(v);
                }
                Some(Err(e)) => match self.retry_delay(attempt, deadline) {
                    Some(delay) => {
                        guard.holds_permit = false;
                        self.release();
                        Sleep::new(delay).await;
                        attempt += 1;
                    }
                    None => {
                        guard.done = true;
                        self.finish(true, Finish::Failed);
                        return Err(ControllerError::Inner(e));
                    }
                },
            }
        }
    }

    fn submit(&self) {
        let mut s = lock(&self.state);
        s.stats.submitted += 1;
        s.stats.in_flight += 1;
        // Every first attempt earns a fraction of a retry.
        s.budget = (s.budget + self.deposit).min(self.budget_cap);
    }

    fn admit(&self) -> Admit {
        let mut s = lock(&self.state);
        if s.running < self.config.max_concurrent && s.queue.is_empty() {
            s.running += 1;
            return Admit::Now;
        }
        if s.queue.len() >= self.config.max_queued {
            return Admit::Full;
        }
        let w = Arc::new(Mutex::new(WaiterSlot {
            granted: false,
            thread: Some(std::thread::current()),
            #[cfg(feature = "async")]
            waker: None,
        }));
        s.queue.push_back(w.clone());
        Admit::Queued(w)
    }

    /// Parks until granted (true) or the deadline passes and the waiter is withdrawn (false).
    fn wait_blocking(&self, w: &Waiter, deadline: Option<Instant>) -> bool {
        loop {
            if lock(w).granted {
                return true;
            }
            let now = Instant::now();
            match deadline {
                Some(d) if now >= d => return !self.withdraw(w),
                Some(d) => std::thread::park_timeout(d - now),
                None => std::thread::park(),
            }
        }
    }

    /// Removes a waiter from the queue; false if it had been granted meanwhile (it then holds a
    /// permit).
    fn withdraw(&self, w: &Waiter) -> bool {
        let mut s = lock(&self.state);
        if lock(w).granted {
            return false;
        }
        if let Some(i) = s.queue.iter().position(|x| Arc::ptr_eq(x, w)) {
            s.queue.remove(i);
        }
        true
    }

    /// Frees a permit: handed to the first waiter, else returned.
    fn release(&self) {
        let mut s = lock(&self.state);
        self.release_locked(&mut s);
    }

    fn release_locked(&self, s: &mut CState) {
        match s.queue.pop_front() {
            Some(w) => {
                let mut slot = lock(&w);
                slot.granted = true;
                if let Some(t) = &slot.thread {
                    t.unpark();
                }
                #[cfg(feature = "async")]
                if let Some(waker) = slot.waker.take() {
                    waker.wake();
                }
            }
            None => s.running -= 1,
        }
    }

    fn finish(&self, held_permit: bool, how: Finish) {
        let mut s = lock(&self.state);
        if held_permit {
            self.release_locked(&mut s);
        }
        s.stats.in_flight -= 1;
        match how {
            Finish::Completed => s.stats.completed += 1,
            Finish::Failed => s.stats.failed += 1,
            Finish::Rejected => s.stats.rejected += 1,
            Finish::TimedOut => s.stats.timed_out += 1,
        }
    }

    /// The backoff before retry `attempt + 1`, if the count, budget and deadline allow one.
    fn retry_delay(&self, attempt: u32, deadline: Option<Instant>) -> Option<Duration> {
        if attempt >= self.config.max_retries {
            return None;
        }
        // Exponential, capped, with full jitter (AWS architecture blog, "Exponential Backoff and
        // Jitter"): uniform in [0, min(cap, base * 2^attempt)].
        let exp = self.config.base_backoff.saturating_mul(1u32 << attempt.min(31));
        let cap = exp.min(self.config.max_backoff);
        let delay =
            Duration::try_from_secs_f64(cap.as_secs_f64() * self.next_unit()).unwrap_or(cap);
        // Checked: a huge `max_backoff` must end the retries, not panic on `Instant + Duration`.
        if deadline.is_some_and(|d| Instant::now().checked_add(delay).is_none_or(|t| t >= d)) {
            return None;
        }
        let mut s = lock(&self.state);
        if s.budget < BUDGET_UNIT {
            s.stats.retries_denied += 1;
            return None;
        }
        s.budget -= BUDGET_UNIT;
        s.stats.retries += 1;
        Some(delay)
    }

    /// A uniform number in [0, 1) from a splitmix64 stream (jitter needs spread, not secrecy).
    fn next_unit(&self) -> f64 {
        let mut z = self.rng.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Restores the books if an async call is dropped before finishing.
#[cfg(feature = "async")]
struct CallGuard<'a> {
    c: &'a ConcurrencyController,
    holds_permit: bool,
    waiter: Option<Waiter>,
    done: bool,
}

#[cfg(feature = "async")]
impl Drop for CallGuard<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut held = self.holds_permit;
        if let Some(w) = self.waiter.take() {
            // Granted while being dropped: it holds a permit to give back.
            held |= !self.c.withdraw(&w);
        }
        // A cancelled call is counted as timed out: it ended without a result.
        self.c.finish(held, Finish::TimedOut);
    }
}

/// Waits for a queued permit; resolves to false at the deadline (withdrawn).
#[cfg(feature = "async")]
struct PermitWait<'a> {
    c: &'a ConcurrencyController,
    w: Waiter,
    sleep: Option<crate::limit::sleep::Sleep>,
}

#[cfg(feature = "async")]
impl std::future::Future for PermitWait<'_> {
    type Output = bool;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<bool> {
        use std::task::Poll;
        let this = self.get_mut();
        {
            let mut slot = lock(&this.w);
            if slot.granted {
                return Poll::Ready(true);
            }
            slot.thread = None;
            slot.waker = Some(cx.waker().clone());
        }
        if let Some(sleep) = &mut this.sleep
            && std::pin::Pin::new(sleep).poll(cx).is_ready()
        {
            return Poll::Ready(!this.c.withdraw(&this.w));
        }
        Poll::Pending
    }
}

/// Runs a future until a deadline; `None` if the deadline came first (the future is dropped).
#[cfg(feature = "async")]
struct Deadline<'a, F> {
    fut: std::pin::Pin<&'a mut F>,
    sleep: crate::limit::sleep::Sleep,
}

#[cfg(feature = "async")]
impl<F: std::future::Future> std::future::Future for Deadline<'_, F> {
    type Output = Option<F::Output>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<F::Output>> {
        use std::task::Poll;
        let this = self.get_mut();
        if let Poll::Ready(v) = this.fut.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        if std::pin::Pin::new(&mut this.sleep).poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;
    use std::sync::mpsc;

    fn invariant(s: ControllerStats) {
        assert_eq!(
            s.submitted,
            s.completed + s.failed + s.rejected + s.timed_out + s.in_flight,
            "{s:?}"
        );
    }

    #[test]
    fn queue_full_and_timeout_are_counted_exactly() {
        let c = ConcurrencyController::builder()
            .max_concurrent(1)
            .max_queued(1)
            .timeout(Duration::from_millis(30))
            .build()
            .unwrap();
        let (entered_tx, entered_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        std::thread::scope(|s| {
            let c = &c;
            let holder = s.spawn(move || {
                c.run(|| {
                    entered_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    Ok::<_, ()>(())
                })
            });
            entered_rx.recv().unwrap();
            let queued = s.spawn(move || c.run(|| Ok::<_, ()>(())));
            let deadline = Instant::now() + Duration::from_secs(10);
            while c.stats().queued != 1 {
                assert!(Instant::now() < deadline);
                std::thread::yield_now();
            }
            invariant(c.stats());
            assert_eq!(c.run(|| Ok::<_, ()>(())), Err(ControllerError::QueueFull));
            assert!(matches!(queued.join().unwrap(), Err(ControllerError::TimedOut { .. })));
            release_tx.send(()).unwrap();
            holder.join().unwrap().unwrap();
        });
        let s = c.stats();
        invariant(s);
        assert_eq!(
            (s.submitted, s.completed, s.rejected, s.timed_out, s.in_flight),
            (3, 1, 1, 1, 0)
        );
    }

    #[test]
    fn never_more_than_max_concurrent() {
        let c = ConcurrencyController::builder().max_concurrent(3).max_queued(64).build().unwrap();
        let running = AtomicU64::new(0);
        let peak = AtomicU64::new(0);
        let barrier = Barrier::new(8);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    barrier.wait();
                    for _ in 0..100 {
                        c.run(|| {
                            let n = running.fetch_add(1, Ordering::SeqCst) + 1;
                            peak.fetch_max(n, Ordering::SeqCst);
                            running.fetch_sub(1, Ordering::SeqCst);
                            Ok::<_, ()>(())
                        })
                        .unwrap();
                    }
                });
            }
        });
        assert!(peak.load(Ordering::SeqCst) <= 3);
        let s = c.stats();
        invariant(s);
        assert_eq!(s.completed, 800);
    }

    #[test]
    fn retry_budget_limits_retries() {
        let c = ConcurrencyController::builder()
            .max_retries(5)
            .base_backoff(Duration::from_micros(1))
            .max_backoff(Duration::from_micros(10))
            .retry_budget_ratio(0.0)
            .retry_budget_reserve(3)
            .build()
            .unwrap();
        let mut attempts = 0;
        let r = c.run(|| {
            attempts += 1;
            Err::<(), _>(attempts)
        });
        assert_eq!(r, Err(ControllerError::Inner(4)), "1 attempt + 3 budgeted retries");
        let s = c.stats();
        assert_eq!((s.retries, s.retries_denied, s.failed), (3, 1, 1));
        invariant(s);
    }

    #[test]
    fn bad_config_rejected() {
        let b = ConcurrencyController::builder;
        assert!(b().max_concurrent(0).build().is_err());
        assert!(b().retry_budget_ratio(f64::NAN).build().is_err());
        assert!(b().base_backoff(Duration::from_secs(2)).build().is_err());
        assert!(b().base_backoff(Duration::ZERO).build().is_err());
    }

    #[cfg(feature = "async")]
    #[test]
    fn async_timeout_cancels_a_slow_attempt() {
        let c =
            ConcurrencyController::builder().timeout(Duration::from_millis(20)).build().unwrap();
        let r = futures::executor::block_on(c.run_async(|| async {
            crate::limit::sleep::Sleep::new(Duration::from_secs(30)).await;
            Ok::<_, ()>(())
        }));
        assert!(matches!(r, Err(ControllerError::TimedOut { .. })));
        let s = c.stats();
        assert_eq!((s.timed_out, s.running, s.in_flight), (1, 0, 0));
    }
}
