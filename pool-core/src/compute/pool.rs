//! The compute pool: admission, dispatch onto its own rayon thread pool, shutdown.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use super::adaptive::Gate;
use super::builder::{
    ComputePoolBuildError, ComputePoolBuildErrorKind, ComputePoolBuilder, ComputePoolConfig,
    QueueFullPolicy, WarmUp,
};
use super::cancel::CancellationToken;
use super::error::{SubmitError, SubmitErrorKind};
use super::handle::TaskHandle;
use super::queue::Next;
use super::shared::Shared;
use super::stats::ComputePoolStats;
use super::task::{Body, Plain, Runnable, Task, TaskParams, WithToken};
use crate::sync::{Arc, Condvar, Mutex};

/// A pool of worker threads for CPU-heavy work, on its own rayon thread pool (never rayon's
/// global one), with what rayon leaves to its users: result handles, a bounded queue with a
/// policy for when it is full, deadlines, cancellation, panic isolation, nested joins that
/// cannot deadlock, bulk and streaming maps, statistics and graceful shutdown.
///
/// Cloning is cheap and yields another handle to the same pool (tasks that submit to their own
/// pool capture a clone).
///
/// Dropping the last clone behaves like [`shutdown`](Self::shutdown) without the wait: no new
/// work is admitted, and the threads finish every queued task (resolving its handle) before
/// they exit. Use [`shutdown_now`](Self::shutdown_now) first to discard queued work instead.
///
/// # Examples
///
/// ```
/// use pool_core::ComputePool;
///
/// let pool = ComputePool::new(4)?;
/// let handle = pool.submit(|| (1..=10u64).product::<u64>()).unwrap();
/// assert_eq!(handle.join(), Ok(3_628_800));
///
/// let squares = pool.map(vec![1, 2, 3], |x| x * x);
/// assert_eq!(squares, vec![1, 4, 9]);
/// # Ok::<(), pool_core::ComputePoolBuildError>(())
/// ```
#[derive(Clone)]
pub struct ComputePool {
    inner: Arc<Inner>,
}

struct Inner {
    rayon: rayon::ThreadPool,
    shared: Arc<Shared>,
    config: ComputePoolConfig,
    exported: super::export::Exported,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Stop admission; rayon's own drop lets its threads drain the queued jobs before exiting,
        // so every handle still resolves.
        self.shared.admission.close();
    }
}

// A panic that unwinds past a pool (say out of `map`) leaves it consistent: every shared state
// change is a single atomic step or made under a lock that tolerates poisoning.
impl std::panic::UnwindSafe for ComputePool {}
impl std::panic::RefUnwindSafe for ComputePool {}

impl fmt::Debug for ComputePool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComputePool")
            .field("config", &self.inner.config)
            .field("queued", &self.inner.shared.admission.queued())
            .field("in_flight", &self.inner.shared.admission.outstanding())
            .field("shut_down", &self.inner.shared.admission.is_closed())
            .finish()
    }
}

/// How a submission treats a full queue.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The pool's configured policy.
    Policy,
    /// Never wait, never run on the caller.
    Try,
    /// Wait for room (run on the caller when it is a worker of this pool): `map_iter`.
    Wait,
}

/// Counts warm-up completions so `build` can wait for every worker.
struct Latch {
    state: Mutex<(usize, Option<String>)>,
    cv: Condvar,
}

impl ComputePool {
    /// A pool with `threads` workers and every other setting at its default.
    ///
    /// # Errors
    ///
    /// `threads == 0`, or the OS would not start the threads.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(2)?;
    /// assert_eq!(pool.threads(), 2);
    /// # Ok::<(), pool_core::ComputePoolBuildError>(())
    /// ```
    pub fn new(threads: usize) -> Result<Self, ComputePoolBuildError> {
        ComputePoolBuilder::new().threads(threads).build()
    }

    /// A builder for the other settings.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ComputePool::builder().threads(2).queue_capacity(8).build()?;
    /// assert_eq!(pool.config().queue_capacity, 8);
    /// # Ok::<(), pool_core::ComputePoolBuildError>(())
    /// ```
    pub fn builder() -> ComputePoolBuilder {
        ComputePoolBuilder::new()
    }

    pub(crate) fn start(
        config: ComputePoolConfig,
        warm_up: Option<WarmUp>,
    ) -> Result<Self, ComputePoolBuildError> {
        let gate = config.adaptive.as_ref().map(Gate::new);
        let shared = Arc::new(Shared::new(
            config.threads,
            config.queue_capacity,
            config.default_deadline,
            gate,
        ));
        // Calibrate the task clock now rather than inside the first task.
        let _ = quanta::Instant::now();
        let latch = Arc::new(Latch { state: Mutex::new((0, None)), cv: Condvar::new() });
        let prefix = config.thread_name_prefix.clone();
        let mut builder = rayon::ThreadPoolBuilder::new()
            .num_threads(config.threads)
            .thread_name(move |i| format!("{prefix}-{i}"))
            // Task panics are caught before they reach rayon; this only guards against a panic in
            // a user-supplied waker, which would otherwise abort the process.
            .panic_handler(|_payload| {});
        if let Some(size) = config.stack_size {
            builder = builder.stack_size(size);
        }
        let start_shared = Arc::clone(&shared);
        let start_latch = Arc::clone(&latch);
        builder = builder.start_handler(move |index| {
            start_shared.enter_worker(index);
            let failure = warm_up.as_ref().and_then(|hook| {
                catch_unwind(AssertUnwindSafe(|| hook(index)))
                    .err()
                    .map(|p| super::error::panic_message(p.as_ref()))
            });
            let mut st =
                start_latch.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            st.0 += 1;
            if st.1.is_none() {
                st.1 = failure.map(|m| format!("warm_up panicked on worker {index}: {m}"));
            }
            drop(st);
            start_latch.cv.notify_all();
        });
        let rayon = builder.build().map_err(|e| {
            ComputePoolBuildError::new(
                ComputePoolBuildErrorKind::Spawn,
                format!("could not start the worker threads: {e}"),
            )
        })?;
        // Wait until every worker ran its start handler: the pool is warm when `build` returns.
        let mut st = latch.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while st.0 < config.threads {
            st = latch.cv.wait(st).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        if let Some(msg) = st.1.take() {
            return Err(ComputePoolBuildError::new(ComputePoolBuildErrorKind::WarmUpPanicked, msg));
        }
        drop(st);
        Ok(Self { inner: Arc::new(Inner { rayon, shared, config, exported: Default::default() }) })
    }

    /// The effective configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(2).unwrap();
    /// assert_eq!(pool.config().threads, 2);
    /// assert_eq!(pool.config().workload, None);
    /// ```
    #[must_use]
    pub fn config(&self) -> &ComputePoolConfig {
        &self.inner.config
    }

    /// The number of worker threads.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::ComputePool::new(3).unwrap().threads(), 3);
    /// ```
    #[must_use]
    pub fn threads(&self) -> usize {
        self.inner.config.threads
    }

    /// Submits a task under the pool's [`QueueFullPolicy`] and default deadline.
    ///
    /// A panic inside `f` is caught: the handle resolves to `Err(Panicked(message))` and the
    /// pool and its threads carry on. Dropping the handle detaches the task (it still runs).
    ///
    /// # Errors
    ///
    /// `ShutDown` after a shutdown; with a full queue, `QueueFull` under `Reject` and `TimedOut`
    /// when `Block`'s timeout runs out (`CallerRuns` runs the task on this thread instead).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(2).unwrap();
    /// let h = pool.submit(|| "done").unwrap();
    /// assert_eq!(h.join(), Ok("done"));
    /// ```
    pub fn submit<F, T>(&self, f: F) -> Result<TaskHandle<T>, SubmitError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.submit_body(Plain(f), Mode::Policy, None, never_fails::<T>)
    }

    /// Submits a task if the queue has room right now; never blocks and never runs the task on
    /// this thread, whatever the policy. A refusal allocates nothing.
    ///
    /// # Errors
    ///
    /// `QueueFull` when the queue is at capacity, `ShutDown` after a shutdown.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1).unwrap();
    /// let h = pool.try_submit(|| 2 + 2).unwrap();
    /// assert_eq!(h.join(), Ok(4));
    /// ```
    pub fn try_submit<F, T>(&self, f: F) -> Result<TaskHandle<T>, SubmitError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.submit_body(Plain(f), Mode::Try, None, never_fails::<T>)
    }

    /// Submits a task that must start before `deadline`; if it is still queued then, it
    /// resolves to `Err(Expired)` without running.
    ///
    /// # Errors
    ///
    /// As [`submit`](Self::submit).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let pool = pool_core::ComputePool::new(1).unwrap();
    /// let h = pool.submit_before(Instant::now() + Duration::from_secs(10), || 7).unwrap();
    /// assert_eq!(h.join(), Ok(7));
    /// ```
    pub fn submit_before<F, T>(&self, deadline: Instant, f: F) -> Result<TaskHandle<T>, SubmitError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.submit_body(Plain(f), Mode::Policy, Some(deadline), never_fails::<T>)
    }

    /// Submits a task that receives its own [`CancellationToken`], the one
    /// [`TaskHandle::cancel`] sets, so a long task can stop early.
    ///
    /// # Errors
    ///
    /// As [`submit`](Self::submit).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1).unwrap();
    /// let h = pool.submit_cancellable(|token| {
    ///     let mut steps = 0u64;
    ///     while !token.is_cancelled() && steps < 1_000 {
    ///         steps += 1;
    ///     }
    ///     steps
    /// }).unwrap();
    /// assert!(h.join().unwrap() <= 1_000);
    /// ```
    pub fn submit_cancellable<F, T>(&self, f: F) -> Result<TaskHandle<T>, SubmitError>
    where
        F: FnOnce(&CancellationToken) -> T + Send + 'static,
        T: Send + 'static,
    {
        self.submit_body(WithToken(f), Mode::Policy, None, never_fails::<T>)
    }

    /// Submits a fallible task: the handle yields its `Result` as is, and an `Err` is counted
    /// as `failed` in the statistics (a panic still counts as `panicked`).
    ///
    /// # Errors
    ///
    /// As [`submit`](Self::submit).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1).unwrap();
    /// let h = pool.submit_result(|| "x".parse::<u32>()).unwrap();
    /// assert!(h.join().unwrap().is_err());
    /// assert_eq!(pool.stats().failed, 1);
    /// ```
    pub fn submit_result<F, T, E>(&self, f: F) -> Result<TaskHandle<Result<T, E>>, SubmitError>
    where
        F: FnOnce() -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        self.submit_body(Plain(f), Mode::Policy, None, Result::is_err)
    }

    pub(crate) fn submit_body<B, T>(
        &self,
        body: B,
        mode: Mode,
        deadline: Option<Instant>,
        is_failure: fn(&T) -> bool,
    ) -> Result<TaskHandle<T>, SubmitError>
    where
        B: Body<T>,
        T: Send + 'static,
    {
        let shared = &self.inner.shared;
        let admission = &shared.admission;
        // Blocking on a full queue from one of our own workers could wait for a slot only this
        // thread would free; such callers run the task themselves instead.
        let (admitted, caller_may_run) = match (mode, self.inner.config.queue_full_policy) {
            (Mode::Try, _) | (Mode::Policy, QueueFullPolicy::Reject) => {
                (admission.try_admit(), false)
            }
            (Mode::Policy, QueueFullPolicy::CallerRuns) => (admission.try_admit(), true),
            (Mode::Policy, QueueFullPolicy::Block { timeout }) => {
                if shared.on_worker() {
                    (admission.try_admit(), true)
                } else {
                    (admission.admit_blocking(timeout), false)
                }
            }
            (Mode::Wait, _) => {
                if shared.on_worker() {
                    (admission.try_admit(), true)
                } else {
                    (admission.admit_blocking(None), false)
                }
            }
        };
        let holds_slot = match admitted {
            Ok(()) => true,
            Err(SubmitErrorKind::QueueFull)
                if caller_may_run && admission.admit_inline().is_ok() =>
            {
                false
            }
            Err(kind) => {
                // The one counter a refusal touches (`submitted` is admitted + rejected).
                shared.stats.submit.rejected.inc();
                return Err(SubmitError::new(kind));
            }
        };
        shared.stats.submit.admitted.inc();
        let now = quanta::Instant::now();
        let deadline = match deadline {
            // Convert the caller's std deadline to the task clock, relative to now.
            // A deadline past what the clock can represent (`Duration::MAX`) is no deadline.
            Some(d) => now.checked_add(d.saturating_duration_since(Instant::now())),
            None => shared.default_deadline.and_then(|d| now.checked_add(d)),
        };
        let task = Arc::new(Task::new(
            body,
            TaskParams { holds_slot, submitted_at: now, deadline, is_failure },
        ));
        if !holds_slot {
            Arc::clone(&task).run(shared);
        } else if shared.queue.push(Arc::clone(&task) as Arc<dyn Runnable>, shared.limit()) {
            let s = Arc::clone(shared);
            self.inner.rayon.spawn(move || drain(&s));
        }
        Ok(TaskHandle::new(task, Arc::clone(shared)))
    }

    /// A snapshot of the statistics.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1).unwrap();
    /// let _ = pool.submit(|| -> () { panic!("counted") }).unwrap().join();
    /// let s = pool.stats();
    /// assert_eq!(s.panicked, 1);
    /// assert!(s.is_balanced());
    /// ```
    #[must_use]
    pub fn stats(&self) -> ComputePoolStats {
        let shared = &self.inner.shared;
        let limit = shared.gate.as_ref().map_or(self.inner.config.threads, Gate::limit);
        shared.stats.snapshot(
            shared.admission.outstanding() as u64,
            shared.admission.queued() as u64,
            self.inner.config.threads,
            limit,
        )
    }

    pub(crate) fn exported(&self) -> &super::export::Exported {
        &self.inner.exported
    }

    /// Tasks admitted but not yet started.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::ComputePool::new(1).unwrap().queue_len(), 0);
    /// ```
    #[must_use]
    pub fn queue_len(&self) -> usize {
        self.inner.shared.admission.queued()
    }

    /// Stops admission (later submissions fail with `ShutDown`) and waits until every admitted
    /// task has finished and its handle resolved. Called from one of this pool's own workers it
    /// does not wait (that worker's task is itself outstanding).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(2).unwrap();
    /// let handles: Vec<_> = (0..8).map(|i| pool.submit(move || i).unwrap()).collect();
    /// pool.shutdown();
    /// assert!(handles.iter().all(|h| h.is_finished()));
    /// assert!(pool.submit(|| 0).is_err());
    /// ```
    pub fn shutdown(&self) {
        let shared = &self.inner.shared;
        shared.admission.close();
        if !shared.on_worker() {
            shared.admission.wait_idle(None);
        }
    }

    /// As [`shutdown`](Self::shutdown), waiting at most `timeout` (`Duration::MAX`: until idle);
    /// `true` if the pool went idle. Called from one of this pool's own workers it returns
    /// `false` at once: that worker's task is itself outstanding.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1).unwrap();
    /// assert!(pool.shutdown_timeout(std::time::Duration::from_secs(5)));
    /// ```
    pub fn shutdown_timeout(&self, timeout: Duration) -> bool {
        let shared = &self.inner.shared;
        shared.admission.close();
        // From one of this pool's workers the pool cannot go idle while the caller's own task
        // runs: say so at once instead of waiting out the timeout (forever for `Duration::MAX`).
        !shared.on_worker() && shared.admission.wait_idle(Some(timeout))
    }

    /// Stops admission and cancels every queued task: their handles resolve to
    /// `Err(Cancelled)` (at once for handles someone is waiting on, otherwise when a worker
    /// reaches them, without running them). Running tasks finish; their tokens are not set.
    /// Does not wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::{ComputePool, TaskError};
    ///
    /// let pool = ComputePool::new(1).unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let (started_tx, started_rx) = std::sync::mpsc::channel();
    /// let busy = pool.submit(move || { started_tx.send(()).unwrap(); rx.recv().unwrap() }).unwrap();
    /// started_rx.recv().unwrap(); // the only worker is busy from here on
    /// let queued = pool.submit(|| 1).unwrap();
    /// pool.shutdown_now();
    /// assert_eq!(queued.join(), Err(TaskError::Cancelled));
    /// tx.send(()).unwrap();
    /// assert_eq!(busy.join(), Ok(()));
    /// ```
    pub fn shutdown_now(&self) {
        self.inner.shared.abort();
    }

    /// Whether a shutdown began (or the pool was dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1).unwrap();
    /// pool.shutdown();
    /// assert!(pool.is_shut_down());
    /// ```
    #[must_use]
    pub fn is_shut_down(&self) -> bool {
        self.inner.shared.admission.is_closed()
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }

    pub(crate) fn rayon(&self) -> &rayon::ThreadPool {
        &self.inner.rayon
    }
}

fn never_fails<T>(_: &T) -> bool {
    false
}

/// Tasks a drainer runs between two `rayon::yield_now` calls, so that other rayon work in
/// this pool (a `map`, a nested `par_iter`) is not starved by a long queue.
const YIELD_EVERY: u32 = 64;

/// A drainer: runs queued tasks until the queue is empty or the limit drops below the number
/// of drainers (see `queue.rs`).
fn drain(shared: &Arc<Shared>) {
    let mut since_yield = 0;
    while let Next::Run(task) = shared.queue.pop_or_retire(shared.limit()) {
        task.run_if_queued(shared);
        if shared.gate.is_some() && shared.queue.wants_drainer(shared.limit()) {
            // The adaptive limit went up: add a drainer (on a worker, `rayon::spawn` lands in
            // this pool).
            if shared.queue.reserve(shared.limit()) {
                let s = Arc::clone(shared);
                rayon::spawn(move || drain(&s));
            }
        }
        since_yield += 1;
        if since_yield == YIELD_EVERY {
            since_yield = 0;
            let _ = rayon::yield_now();
        }
    }
}
