//! `ConcurrencyController`: at most N calls at once, at most Q queued (FIFO), per-call timeout,
//! retries with exponential backoff, full jitter and a retry budget, and exact statistics.
//!
//! All counters change under the controller's one lock, in the same critical section as the
//! permit they describe, so any snapshot satisfies
//! `submitted == completed + failed + rejected + timed_out + in_flight` exactly.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use pool_metrics::Clock;

use super::builder::{ConcurrencyControllerBuilder, ConcurrencyControllerConfig};
use super::error::ConcurrencyError;
#[cfg(feature = "async")]
use crate::limit::sleep::ClockSleep;
use crate::sync::{AtomicU64, Mutex, Ordering, lock};
use crate::waiters::{PendingWake, WaitQueue, Waiter, recheck_after};

/// Budget is kept in thousandths of a retry so fractional ratios deposit exactly.
const BUDGET_UNIT: u64 = 1000;

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

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
/// let c = pool_core::ConcurrencyController::new(2)?;
/// c.run(|| Ok::<_, ()>(())).unwrap();
/// let s = c.stats();
/// assert_eq!(s.submitted, s.completed + s.failed + s.rejected + s.timed_out + s.in_flight);
/// # Ok::<(), pool_core::ConcurrencyControllerBuildError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConcurrencyControllerStats {
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

struct CState {
    running: usize,
    /// Callers waiting for a permit (at most `max_queued`); a freed permit goes to the first.
    queue: WaitQueue<()>,
    stats: ConcurrencyControllerStats,
    /// Retry budget in thousandths of a retry.
    budget: u64,
}

/// Limits concurrency with a bounded FIFO queue, and runs calls with timeout and retries.
///
/// A cheap handle: clones share one controller (one `Arc`), so hand a clone to each thread.
///
/// # Examples
///
/// ```
/// use pool_core::ConcurrencyController;
///
/// let c = ConcurrencyController::new(2)?;
/// let worker = c.clone();
/// let v = std::thread::spawn(move || worker.run(|| Ok::<_, std::io::Error>(21 * 2)))
///     .join()
///     .unwrap()
///     .unwrap();
/// assert_eq!(v, 42);
/// assert_eq!(c.stats().completed, 1);
/// # Ok::<(), pool_core::ConcurrencyControllerBuildError>(())
/// ```
#[derive(Clone)]
pub struct ConcurrencyController {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    state: Mutex<CState>,
    deposit: u64,
    budget_cap: u64,
    rng: AtomicU64,
    config: ConcurrencyControllerConfig,
    clock: Arc<dyn Clock>,
    /// The stats last exported (so exports add deltas).
    pub(super) exported: Mutex<ConcurrencyControllerStats>,
}

impl fmt::Debug for ConcurrencyController {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConcurrencyController")
            .field("config", &self.inner.config)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// How a permit wait ended.
enum Admit {
    Now,
    Queued(Waiter<()>),
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
    /// # Errors
    ///
    /// [`ConcurrencyControllerBuildError`](crate::ConcurrencyControllerBuildError) if
    /// `max_concurrent` is 0 (constructors in this crate never panic on bad input).
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::{ConcurrencyController, ConcurrencyControllerConfig};
    /// let c = ConcurrencyController::new(8)?;
    /// assert_eq!(c.config().max_queued, ConcurrencyControllerConfig::DEFAULT_MAX_QUEUED);
    /// assert!(ConcurrencyController::new(0).is_err());
    /// # Ok::<(), pool_core::ConcurrencyControllerBuildError>(())
    /// ```
    pub fn new(max_concurrent: usize) -> Result<Self, crate::ConcurrencyControllerBuildError> {
        Self::builder().max_concurrent(max_concurrent).build()
    }

    /// A builder with every default.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::{ConcurrencyController, ConcurrencyControllerConfig};
    /// let c = ConcurrencyController::builder().build()?;
    /// assert_eq!(c.config().max_concurrent, ConcurrencyControllerConfig::DEFAULT_MAX_CONCURRENT);
    /// # Ok::<(), pool_core::ConcurrencyControllerBuildError>(())
    /// ```
    pub fn builder() -> ConcurrencyControllerBuilder {
        ConcurrencyControllerBuilder::new()
    }

    pub(super) fn from_parts(config: ConcurrencyControllerConfig, clock: Arc<dyn Clock>) -> Self {
        let reserve = u64::from(config.retry_budget_reserve) * BUDGET_UNIT;
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(CState {
                    running: 0,
                    queue: WaitQueue::default(),
                    stats: ConcurrencyControllerStats::default(),
                    budget: reserve,
                }),
                deposit: (config.retry_budget_ratio * BUDGET_UNIT as f64) as u64,
                budget_cap: reserve.max(BUDGET_UNIT * 1000),
                rng: AtomicU64::new(seed()),
                config,
                clock,
                exported: Mutex::default(),
            }),
        }
    }

    /// The effective configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::ConcurrencyController::new(3)?.config().timeout, None);
    /// # Ok::<(), pool_core::ConcurrencyControllerBuildError>(())
    /// ```
    #[must_use]
    pub fn config(&self) -> &ConcurrencyControllerConfig {
        &self.inner.config
    }

    /// A consistent snapshot of the counters.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::ConcurrencyController::new(3)?.stats().submitted, 0);
    /// # Ok::<(), pool_core::ConcurrencyControllerBuildError>(())
    /// ```
    #[must_use]
    pub fn stats(&self) -> ConcurrencyControllerStats {
        let s = lock(&self.inner.state);
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
    /// [`ConcurrencyError::QueueFull`], [`ConcurrencyError::TimedOut`], or
    /// [`ConcurrencyError::Inner`] with the last attempt's error.
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
    pub fn run<T, E>(&self, mut f: impl FnMut() -> Result<T, E>) -> Result<T, ConcurrencyError<E>> {
        let start = self.now();
        let deadline = self.deadline(start);
        self.submit();
        let mut attempt = 0u32;
        loop {
            match self.admit() {
                Admit::Now => {}
                Admit::Full => {
                    self.finish(false, Finish::Rejected);
                    return Err(ConcurrencyError::QueueFull);
                }
                Admit::Queued(w) => {
                    if !self.wait_blocking(&w, deadline) {
                        self.finish(false, Finish::TimedOut);
                        return Err(ConcurrencyError::TimedOut { waited: self.since(start) });
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
                        return Err(ConcurrencyError::Inner(e));
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
    /// let c = pool_core::ConcurrencyController::new(2).unwrap();
    /// let r = futures::executor::block_on(c.run_async(|| async { Ok::<_, ()>(5) }));
    /// assert_eq!(r, Ok(5));
    /// # }
    /// ```
    #[cfg(feature = "async")]
    pub async fn run_async<T, E, Fut>(
        &self,
        mut f: impl FnMut() -> Fut,
    ) -> Result<T, ConcurrencyError<E>>
    where
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        let start = self.now();
        let deadline = self.deadline(start);
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
                    return Err(ConcurrencyError::QueueFull);
                }
                Admit::Queued(w) => {
                    guard.waiter = Some(w.clone());
                    let granted =
                        PermitWait { c: self, w, sleep: deadline.map(|at| self.sleep_until(at)) }
                            .await;
                    guard.waiter = None;
                    if !granted {
                        guard.done = true;
                        self.finish(false, Finish::TimedOut);
                        return Err(ConcurrencyError::TimedOut { waited: self.since(start) });
                    }
                    guard.holds_permit = true;
                }
            }
            let outcome = match deadline {
                Some(at) => {
                    Deadline { fut: std::pin::pin!(f()), sleep: self.sleep_until(at) }.await
                }
                None => Some(f().await),
            };
            match outcome {
                None => {
                    guard.done = true;
                    self.finish(true, Finish::TimedOut);
                    return Err(ConcurrencyError::TimedOut { waited: self.since(start) });
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
                        crate::limit::sleep::Sleep::new(delay).await;
                        attempt += 1;
                    }
                    None => {
                        guard.done = true;
                        self.finish(true, Finish::Failed);
                        return Err(ConcurrencyError::Inner(e));
                    }
                },
            }
        }
    }

    fn submit(&self) {
        let mut s = lock(&self.inner.state);
        s.stats.submitted += 1;
        s.stats.in_flight += 1;
        // Every first attempt earns a fraction of a retry.
        s.budget = (s.budget + self.inner.deposit).min(self.inner.budget_cap);
    }

    fn now(&self) -> u64 {
        self.inner.clock.now_nanos()
    }

    /// The call's deadline in clock nanoseconds (saturating: `Duration::MAX` never arrives).
    fn deadline(&self, start: u64) -> Option<u64> {
        self.inner.config.timeout.map(|t| start.saturating_add(nanos(t)))
    }

    fn since(&self, start: u64) -> Duration {
        Duration::from_nanos(self.now().saturating_sub(start))
    }

    #[cfg(feature = "async")]
    fn sleep_until(&self, at: u64) -> ClockSleep {
        ClockSleep::until(Arc::clone(&self.inner.clock), at)
    }

    fn admit(&self) -> Admit {
        let mut s = lock(&self.inner.state);
        if s.running < self.inner.config.max_concurrent && s.queue.is_empty() {
            s.running += 1;
            return Admit::Now;
        }
        if s.queue.len() >= self.inner.config.max_queued {
            return Admit::Full;
        }
        // An async caller's waker replaces this thread at its first poll.
        Admit::Queued(s.queue.push_current_thread())
    }

    /// Parks until granted (true) or the deadline passes and the waiter is withdrawn (false).
    fn wait_blocking(&self, w: &Waiter<()>, deadline: Option<u64>) -> bool {
        let mut again = false;
        loop {
            if w.take_grant().is_some() {
                return true;
            }
            let now = self.now();
            match deadline {
                Some(d) if now >= d => return !self.withdraw(w),
                Some(d) => {
                    std::thread::park_timeout(recheck_after(Duration::from_nanos(d - now), again));
                    again = true;
                }
                None => std::thread::park(),
            }
        }
    }

    /// Removes a waiter from the queue; false if it had been granted meanwhile (it then holds a
    /// permit).
    fn withdraw(&self, w: &Waiter<()>) -> bool {
        lock(&self.inner.state).queue.withdraw(w).is_none()
    }

    /// Frees a permit: handed to the first waiter, else returned.
    fn release(&self) {
        let mut s = lock(&self.inner.state);
        let wake = Self::release_locked(&mut s);
        drop(s);
        if let Some(wake) = wake {
            wake.wake();
        }
    }

    /// Hands the permit on (the waiter is woken by the caller once the lock is released).
    fn release_locked(s: &mut CState) -> Option<PendingWake> {
        match s.queue.grant_first(()) {
            Ok(wake) => Some(wake),
            Err(()) => {
                s.running -= 1;
                None
            }
        }
    }

    fn finish(&self, held_permit: bool, how: Finish) {
        let mut s = lock(&self.inner.state);
        let wake = if held_permit { Self::release_locked(&mut s) } else { None };
        s.stats.in_flight -= 1;
        match how {
            Finish::Completed => s.stats.completed += 1,
            Finish::Failed => s.stats.failed += 1,
            Finish::Rejected => s.stats.rejected += 1,
            Finish::TimedOut => s.stats.timed_out += 1,
        }
        drop(s);
        // Woken outside the lock: the waiter's first act is to take this same lock.
        if let Some(wake) = wake {
            wake.wake();
        }
    }

    /// The backoff before retry `attempt + 1`, if the count, budget and deadline allow one.
    fn retry_delay(&self, attempt: u32, deadline: Option<u64>) -> Option<Duration> {
        if attempt >= self.inner.config.max_retries {
            return None;
        }
        // Exponential, capped, with full jitter (AWS architecture blog, "Exponential Backoff and
        // Jitter"): uniform in [0, min(cap, base * 2^attempt)].
        let exp = self.inner.config.base_backoff.saturating_mul(1u32 << attempt.min(31));
        let cap = exp.min(self.inner.config.max_backoff);
        let delay =
            Duration::try_from_secs_f64(cap.as_secs_f64() * self.next_unit()).unwrap_or(cap);
        // Saturating: a huge `max_backoff` ends the retries; it used to panic on
        // `Instant + Duration` overflow.
        if deadline.is_some_and(|d| self.now().saturating_add(nanos(delay)) >= d) {
            return None;
        }
        let mut s = lock(&self.inner.state);
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
        let mut z = self.inner.rng.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
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
    waiter: Option<Waiter<()>>,
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
    w: Waiter<()>,
    sleep: Option<ClockSleep>,
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
        if this.w.take_grant_or_register(cx.waker()).is_some() {
            return Poll::Ready(true);
        }
        if let Some(sleep) = &mut this.sleep
            && sleep.poll_due(cx)
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
    sleep: ClockSleep,
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
        if this.sleep.poll_due(cx) {
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
    use std::time::Instant;

    fn invariant(s: ConcurrencyControllerStats) {
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
            assert_eq!(c.run(|| Ok::<_, ()>(())), Err(ConcurrencyError::QueueFull));
            assert!(matches!(queued.join().unwrap(), Err(ConcurrencyError::TimedOut { .. })));
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
        assert_eq!(r, Err(ConcurrencyError::Inner(4)), "1 attempt + 3 budgeted retries");
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
        assert!(matches!(r, Err(ConcurrencyError::TimedOut { .. })));
        let s = c.stats();
        assert_eq!((s.timed_out, s.running, s.in_flight), (1, 0, 0));
    }
}
