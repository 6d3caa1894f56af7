//! The result handle of a submitted task.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::cancel::{CancelFlag, CancellationToken};
use super::error::TaskError;
use super::shared::{Abortable, Shared};
use super::task::TaskRef;
use crate::sync::Arc;

/// The result of one submitted task: join it (blocking), join it with a timeout, or `.await`
/// it — the `Future` needs no particular async runtime, any executor's waker works.
///
/// Joining from a worker of the same pool a task that has not started runs it right there, so
/// a task may submit to its own pool and join the result at any depth, even on one thread.
/// Dropping a handle detaches the task; it still runs.
///
/// # Examples
///
/// ```
/// use pool_core::ComputePool;
///
/// let pool = ComputePool::new(2).unwrap();
/// let a = pool.submit(|| 20).unwrap();
/// let b = pool.submit(|| 22).unwrap();
/// // Blocking join, or `.await` in async code:
/// let sum = a.join().unwrap() + futures::executor::block_on(b).unwrap();
/// assert_eq!(sum, 42);
/// ```
pub struct TaskHandle<T> {
    task: Arc<dyn TaskRef<T>>,
    shared: Arc<Shared>,
}

impl<T> fmt::Debug for TaskHandle<T>
where
    T: Send + 'static,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskHandle").field("finished", &self.task.core().is_done()).finish()
    }
}

impl<T: Send + 'static> TaskHandle<T> {
    pub(crate) fn new<R: TaskRef<T> + 'static>(task: Arc<R>, shared: Arc<Shared>) -> Self {
        Self { task, shared }
    }

    /// Before blocking: run the task here if it is queued and we are one of its pool's workers
    /// (the nested-join rule), else make sure `shutdown_now` can find us.
    fn before_blocking(&self) {
        let core = self.task.core();
        if !core.is_queued() {
            return;
        }
        if self.shared.on_worker() {
            Arc::clone(&self.task).run_if_queued(&self.shared);
            return;
        }
        if core.needs_registration() {
            let weak = Arc::downgrade(&(Arc::clone(&self.task) as Arc<dyn Abortable>));
            self.shared.register_waited(weak);
        }
    }

    fn assert_not_taken(&self) {
        assert!(
            !self.task.core().was_taken(),
            "TaskHandle used after its Future returned the result"
        );
    }

    /// Waits for the result.
    ///
    /// # Errors
    ///
    /// The task panicked, expired before it started, or was cancelled (see [`TaskError`]).
    ///
    /// # Panics
    ///
    /// If the handle was already polled to completion as a `Future`.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1).unwrap();
    /// assert_eq!(pool.submit(|| 5).unwrap().join(), Ok(5));
    /// ```
    pub fn join(self) -> Result<T, TaskError> {
        self.assert_not_taken();
        let core = self.task.core();
        if let Some(r) = core.take_result() {
            return r;
        }
        self.before_blocking();
        loop {
            if let Some(r) = core.wait(None) {
                return r;
            }
        }
    }

    /// Waits for the result at most `timeout`; on timeout the handle comes back in `Err`.
    ///
    /// # Errors
    ///
    /// `Err(handle)` when the time ran out; `Ok(Err(..))` as for [`join`](Self::join).
    ///
    /// # Panics
    ///
    /// If the handle was already polled to completion as a `Future`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = pool_core::ComputePool::new(1).unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<u8>();
    /// let h = pool.submit(move || rx.recv().unwrap()).unwrap();
    /// let h = h.join_timeout(Duration::from_millis(1)).unwrap_err(); // still waiting for tx
    /// tx.send(9).unwrap();
    /// assert_eq!(h.join_timeout(Duration::from_secs(30)).unwrap(), Ok(9));
    /// ```
    pub fn join_timeout(self, timeout: Duration) -> Result<Result<T, TaskError>, Self> {
        self.assert_not_taken();
        // A timeout too large to add to now (`Duration::MAX`) waits forever.
        let deadline = Instant::now().checked_add(timeout);
        let core = self.task.core();
        if let Some(r) = core.take_result() {
            return Ok(r);
        }
        self.before_blocking();
        match core.wait(deadline) {
            Some(r) => Ok(r),
            None => Err(self),
        }
    }

    /// Whether the result is ready (a `join` would not block).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1).unwrap();
    /// let h = pool.submit(|| ()).unwrap();
    /// pool.shutdown(); // waits for the task
    /// assert!(h.is_finished());
    /// ```
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.task.core().is_done()
    }

    /// Cancels the task: a task that has not started is never run and resolves to
    /// `Err(Cancelled)` at once (`true` is returned); a running task only sees its
    /// [`CancellationToken`] set and decides itself (`false`).
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::{ComputePool, TaskError};
    ///
    /// let pool = ComputePool::new(1).unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let busy = pool.submit(move || rx.recv().unwrap()).unwrap();
    /// let queued = pool.submit(|| 1).unwrap();
    /// assert!(queued.cancel());
    /// assert_eq!(queued.join(), Err(TaskError::Cancelled));
    /// tx.send(()).unwrap();
    /// busy.join().unwrap();
    /// ```
    pub fn cancel(&self) -> bool {
        self.task.core().set_cancelled();
        self.task.cancel_if_queued(&self.shared)
    }

    /// The task's cancellation token (the one a `submit_cancellable` task receives).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1).unwrap();
    /// let h = pool.submit(|| ()).unwrap();
    /// let token = h.cancellation_token();
    /// h.cancel();
    /// assert!(token.is_cancelled());
    /// ```
    #[must_use]
    pub fn cancellation_token(&self) -> CancellationToken {
        CancellationToken::from_flag(Arc::clone(&self.task) as Arc<dyn CancelFlag>)
    }
}

impl<T: Send + 'static> Future for TaskHandle<T> {
    type Output = Result<T, TaskError>;

    /// # Panics
    ///
    /// If polled again after it returned `Ready`.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.assert_not_taken();
        let core = self.task.core();
        if core.is_queued() && self.shared.on_worker() {
            // Awaited on one of the pool's own workers (say `block_on` inside a task): run it
            // here, as `join` does, or a one-thread pool would wait for itself.
            Arc::clone(&self.task).run_if_queued(&self.shared);
        }
        if let Some(r) = core.poll_result(cx.waker()) {
            return Poll::Ready(r);
        }
        if core.is_queued() && core.needs_registration() {
            let weak = Arc::downgrade(&(Arc::clone(&self.task) as Arc<dyn Abortable>));
            self.shared.register_waited(weak);
            if let Some(r) = core.take_result() {
                return Poll::Ready(r);
            }
        }
        Poll::Pending
    }
}
