//! `GetFuture`: the async checkout (runtime-agnostic; no busy-waiting).
//!
//! The future joins the same FIFO queue as blocking callers, registering its task's waker; the
//! thread that frees a resource hands it over and wakes the task. The acquire timeout is a
//! sleep on the crate's shared timer thread, checked against the pool's clock. Dropping the future while queued withdraws it,
//! and a resource that reached it in the meantime goes back to the pool (to the next waiter).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::limit::sleep::ClockSleep;
use crate::resource::error::GetError;
use crate::resource::guard::Pooled;
use crate::resource::manager::Manager;
use crate::resource::pool::{Grant, ResourcePool};
use crate::waiters::Waiter;

/// The future returned by [`ResourcePool::get_async`].
///
/// Note: creating a resource calls the synchronous [`Manager::create`] from `poll`; a manager
/// whose `create` blocks for long should be paired with `maintain` (pre-created resources) or a
/// blocking-aware executor.
///
/// # Examples
///
/// ```
/// # use pool_core::{Manager, ResourcePool};
/// # struct M; impl Manager for M { type Resource = u8; type Error = String;
/// #   fn create(&self, _: std::time::Duration) -> Result<u8, String> { Ok(3) } }
/// let pool = ResourcePool::new(M);
/// let conn = futures::executor::block_on(pool.get_async()).unwrap();
/// assert_eq!(*conn, 3);
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct GetFuture<'a, M: Manager> {
    pool: &'a ResourcePool<M>,
    waiter: Option<Waiter<Grant<M::Resource>>>,
    sleep: Option<ClockSleep>,
    timeout: Duration,
    /// When the future queued, in pool-clock nanoseconds.
    start: Option<u64>,
}

impl<M: Manager> fmt::Debug for GetFuture<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetFuture").field("queued", &self.waiter.is_some()).finish_non_exhaustive()
    }
}

impl<M: Manager> ResourcePool<M> {
    /// Checks out a resource asynchronously, waiting up to the configured acquire timeout.
    ///
    /// # Errors
    ///
    /// As [`ResourcePool::get`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use pool_core::{Manager, ResourcePool};
    /// # struct M; impl Manager for M { type Resource = (); type Error = String;
    /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
    /// let pool = ResourcePool::new(M);
    /// futures::executor::block_on(async {
    ///     let _conn = pool.get_async().await.unwrap();
    /// });
    /// ```
    pub fn get_async(&self) -> GetFuture<'_, M> {
        self.get_async_timeout(self.config().acquire_timeout)
    }

    /// Checks out a resource asynchronously, waiting up to `timeout`.
    ///
    /// # Errors
    ///
    /// As [`ResourcePool::get`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use pool_core::{GetError, Manager, ResourcePool};
    /// # struct M; impl Manager for M { type Resource = (); type Error = String;
    /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
    /// let pool = ResourcePool::builder(M).max_size(1).build().unwrap();
    /// let held = pool.get().unwrap();
    /// let r = futures::executor::block_on(pool.get_async_timeout(std::time::Duration::from_millis(5)));
    /// assert!(matches!(r, Err(GetError::Timeout { .. })));
    /// # drop(held);
    /// ```
    pub fn get_async_timeout(&self, timeout: Duration) -> GetFuture<'_, M> {
        GetFuture { pool: self, waiter: None, sleep: None, timeout, start: None }
    }
}

impl<'a, M: Manager> Future for GetFuture<'a, M> {
    type Output = Result<Pooled<'a, M>, GetError<M::Error>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let inner = this.pool.inner();
        let Some(waiter) = &this.waiter else {
            let served = {
                let mut s = inner.lock();
                inner.try_take(&mut s)
            };
            if let Some(g) = served {
                // Served at once, without reading the clock.
                inner.acquire_wait.record(0);
                return Poll::Ready(this.pool.finish(g, this.timeout));
            }
            // The wait starts before the task joins the queue (read outside the lock: a clock
            // is user code), as in the blocking `get`.
            let start = inner.now();
            this.start = Some(start);
            let mut s = inner.lock();
            if let Some(g) = inner.try_take(&mut s) {
                drop(s);
                let waited = Duration::from_nanos(inner.now().saturating_sub(start));
                inner.acquire_wait.record_duration(waited);
                return Poll::Ready(this.pool.finish(g, this.timeout.saturating_sub(waited)));
            }
            let w = inner.enqueue(&mut s, cx.waker());
            drop(s);
            this.waiter = Some(w);
            let nanos = u64::try_from(this.timeout.as_nanos()).unwrap_or(u64::MAX);
            let mut sleep = ClockSleep::until(inner.clock(), start.saturating_add(nanos));
            // Registers the timer with this task's waker.
            if sleep.poll_due(cx) {
                return this.expire();
            }
            this.sleep = Some(sleep);
            return Poll::Pending;
        };
        {
            if let Some(g) = waiter.take_grant_or_register(cx.waker()) {
                this.waiter = None;
                let waited = this.start.map_or(Duration::ZERO, |s| {
                    Duration::from_nanos(inner.now().saturating_sub(s))
                });
                inner.acquire_wait.record_duration(waited);
                return Poll::Ready(this.pool.finish(g, this.timeout.saturating_sub(waited)));
            }
        }
        let fired = this.sleep.as_mut().is_some_and(|s| s.poll_due(cx));
        if fired { this.expire() } else { Poll::Pending }
    }
}

impl<'a, M: Manager> GetFuture<'a, M> {
    fn expire(&mut self) -> Poll<Result<Pooled<'a, M>, GetError<M::Error>>> {
        let inner = self.pool.inner();
        let waited = self
            .start
            .map_or(Duration::ZERO, |s| Duration::from_nanos(inner.now().saturating_sub(s)));
        let grant = self.waiter.take().and_then(|w| inner.cancel_wait(&w));
        inner.acquire_wait.record_duration(waited);
        Poll::Ready(match grant {
            Some(g) => self.pool.finish(g, Duration::ZERO),
            None => {
                inner.timeouts.inc();
                Err(GetError::Timeout { waited })
            }
        })
    }
}

impl<M: Manager> Drop for GetFuture<'_, M> {
    fn drop(&mut self) {
        if let Some(w) = self.waiter.take() {
            let inner = self.pool.inner();
            if let Some(g) = inner.cancel_wait(&w) {
                inner.return_grant(g);
            }
        }
    }
}
