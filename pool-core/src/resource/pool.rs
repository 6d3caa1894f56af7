//! `ResourcePool`: the shared state, checkout, return and the FIFO hand-off to waiters.
//!
//! Fairness: a caller that finds other callers queued joins the back of the queue instead of
//! taking an idle resource, and a returned resource (or a freed slot) is handed directly to the
//! waiter at the front, so nobody can barge past a waiter. Idle resources are reused
//! last-in-first-out, which keeps the warmest ones busy and lets the surplus reach its idle
//! timeout when load drops.

use std::fmt;
use std::time::Duration;

use pool_metrics::{Counter, Histogram};

use crate::resource::builder::{ResourcePoolBuilder, ResourcePoolConfig};
use crate::resource::error::GetError;
use crate::resource::guard::Pooled;
use crate::resource::manager::{DestroyReason, Manager};
use crate::resource::stats::ResourcePoolStats;
use crate::sync::{Arc, Mutex, MutexGuard, lock};
use crate::waiters::{WaitQueue, Waiter, recheck_after};
use pool_metrics::{Clock, MonotonicClock};

use std::sync::Arc as StdArc;

/// A resource with its bookkeeping.
pub(crate) struct Entry<R> {
    pub(crate) resource: R,
    created_at: u64,
    idle_since: u64,
    pub(crate) uses: u64,
    /// The last holder panicked: validate before reuse.
    pub(crate) poisoned: bool,
}

/// What a waiter is handed: a resource, or a reserved slot to create one in.
pub(crate) enum Grant<R> {
    Resource(Entry<R>),
    Slot,
}

pub(crate) struct State<R> {
    idle: Vec<Entry<R>>,
    /// Idle + checked out + being created.
    size: usize,
    /// Callers waiting for a resource or slot, served first come, first served. Not capped:
    /// each entry is a caller blocked in `get` (or a pending `get_async` future) that leaves at
    /// its acquire timeout, so the queue never holds more than the callers you have.
    waiters: WaitQueue<Grant<R>>,
}

pub(crate) struct Inner<M: Manager> {
    pub(crate) manager: M,
    pub(crate) config: ResourcePoolConfig,
    state: Mutex<State<M::Resource>>,
    clock: StdArc<dyn Clock>,
    /// Whether any time-based limit is on; if not, checkout and return never read the clock
    /// (a blocked `get` still does, for its timeout).
    timed: bool,
    lifetime_nanos: u64,
    idle_nanos: u64,
    created: Counter,
    create_errors: Counter,
    destroyed: [Counter; 6],
    detached: Counter,
    pub(crate) timeouts: Counter,
    pub(crate) acquire_wait: Histogram,
    /// The statistics last exported (so exports add deltas).
    pub(crate) exported: Mutex<super::export::Exported>,
}

/// A pool of expensive resources (database connections, sessions) created on demand by a
/// [`Manager`], up to `max_size`, handed out as RAII guards.
///
/// Cloning the pool is cheap and shares it.
///
/// **Keeping it warm.** The pool creates resources on demand and starts empty. `min_idle` is
/// honoured by [`ResourcePool::maintain`], which also evicts idle resources past their idle
/// timeout or lifetime: call it once at startup (to pre-connect) and then periodically, from a
/// timer or a background thread of your choosing (every few seconds is typical). The pool starts
/// no thread of its own.
///
/// # Examples
///
/// ```
/// use pool_core::{Manager, ResourcePool};
/// use std::time::Duration;
///
/// struct Db;
/// impl Manager for Db {
///     type Resource = Vec<String>; // stands in for a connection
///     type Error = String;
///     fn create(&self, _timeout: Duration) -> Result<Vec<String>, String> {
///         Ok(Vec::new())
///     }
/// }
///
/// let pool = ResourcePool::builder(Db).max_size(4).build().unwrap();
/// {
///     let mut conn = pool.get().unwrap();
///     conn.push("SELECT 1".into());
/// } // back in the pool here
/// assert_eq!(pool.stats().idle, 1);
/// ```
pub struct ResourcePool<M: Manager> {
    inner: Arc<Inner<M>>,
}

impl<M: Manager> Clone for ResourcePool<M> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

impl<M: Manager> fmt::Debug for ResourcePool<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.inner.lock();
        f.debug_struct("ResourcePool")
            .field("size", &s.size)
            .field("idle", &s.idle.len())
            .field("waiting", &s.waiters.len())
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

fn nanos(d: Option<Duration>) -> u64 {
    d.map_or(u64::MAX, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

impl<M: Manager> ResourcePool<M> {
    /// A pool with every default (see the `DEFAULT_*` constants of [`ResourcePoolConfig`]).
    /// Infallible: the defaults are valid and nothing is created yet.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pool_core::{Manager, ResourcePool};
    /// # struct M; impl Manager for M { type Resource = (); type Error = String;
    /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
    /// let pool = ResourcePool::new(M);
    /// assert_eq!(pool.config().max_size, pool_core::ResourcePoolConfig::DEFAULT_MAX_SIZE);
    /// ```
    pub fn new(manager: M) -> Self {
        Self::from_parts(
            manager,
            ResourcePoolConfig::defaults(),
            StdArc::new(MonotonicClock::new()),
        )
    }

    /// A builder for the pool's knobs.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pool_core::{Manager, ResourcePool};
    /// # struct M; impl Manager for M { type Resource = (); type Error = String;
    /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
    /// let pool = ResourcePool::builder(M).max_size(2).build().unwrap();
    /// assert_eq!(pool.config().max_size, 2);
    /// ```
    pub fn builder(manager: M) -> ResourcePoolBuilder<M> {
        ResourcePoolBuilder::new(manager)
    }

    pub(crate) fn from_parts(
        manager: M,
        config: ResourcePoolConfig,
        clock: StdArc<dyn Clock>,
    ) -> Self {
        let lifetime_nanos = nanos(config.max_lifetime);
        let idle_nanos = nanos(config.idle_timeout);
        Self {
            inner: Arc::new(Inner {
                manager,
                state: Mutex::new(State {
                    idle: Vec::with_capacity(config.max_size),
                    size: 0,
                    waiters: WaitQueue::default(),
                }),
                clock,
                timed: lifetime_nanos != u64::MAX || idle_nanos != u64::MAX,
                lifetime_nanos,
                idle_nanos,
                created: Counter::new(),
                create_errors: Counter::new(),
                destroyed: Default::default(),
                detached: Counter::new(),
                timeouts: Counter::new(),
                acquire_wait: Histogram::new(),
                exported: Mutex::default(),
                config,
            }),
        }
    }

    /// The effective configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pool_core::{Manager, ResourcePool};
    /// # struct M; impl Manager for M { type Resource = (); type Error = String;
    /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
    /// assert!(!ResourcePool::new(M).config().test_on_checkout);
    /// ```
    #[must_use]
    pub fn config(&self) -> &ResourcePoolConfig {
        &self.inner.config
    }

    /// The manager.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pool_core::{Manager, ResourcePool};
    /// # struct M; impl Manager for M { type Resource = (); type Error = String;
    /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
    /// let _m: &M = ResourcePool::new(M).manager();
    /// ```
    #[must_use]
    pub fn manager(&self) -> &M {
        &self.inner.manager
    }

    /// Checks out a resource, waiting up to the configured acquire timeout.
    ///
    /// # Errors
    ///
    /// [`GetError::Create`] with the manager's own error when this caller had to create a
    /// resource and that failed (at once, not after the timeout); [`GetError::Timeout`] when none
    /// became free in time.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pool_core::{Manager, ResourcePool};
    /// # struct M; impl Manager for M { type Resource = u32; type Error = String;
    /// #   fn create(&self, _: std::time::Duration) -> Result<u32, String> { Ok(7) } }
    /// let pool = ResourcePool::new(M);
    /// assert_eq!(*pool.get().unwrap(), 7);
    /// ```
    pub fn get(&self) -> Result<Pooled<'_, M>, GetError<M::Error>> {
        self.get_timeout(self.inner.config.acquire_timeout)
    }

    /// Checks out a resource only if one is idle or may be created now; never waits.
    ///
    /// # Errors
    ///
    /// [`GetError::Timeout`] (with `waited` zero) when every slot is busy or others are queued;
    /// [`GetError::Create`] when creating failed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pool_core::{GetError, Manager, ResourcePool};
    /// # struct M; impl Manager for M { type Resource = (); type Error = String;
    /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
    /// let pool = ResourcePool::builder(M).max_size(1).build().unwrap();
    /// let held = pool.try_get().unwrap();
    /// assert!(matches!(pool.try_get(), Err(GetError::Timeout { .. })));
    /// # drop(held);
    /// ```
    pub fn try_get(&self) -> Result<Pooled<'_, M>, GetError<M::Error>> {
        let inner = &*self.inner;
        let grant = inner.try_take(&mut inner.lock());
        match grant {
            Some(g) => {
                inner.acquire_wait.record(0);
                self.finish(g, inner.config.create_timeout)
            }
            None => {
                inner.timeouts.inc();
                Err(GetError::Timeout { waited: Duration::ZERO })
            }
        }
    }

    /// Checks out a resource, waiting up to `timeout`.
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
    /// use std::time::Duration;
    /// let pool = ResourcePool::builder(M).max_size(1).build().unwrap();
    /// let held = pool.get().unwrap();
    /// assert!(matches!(pool.get_timeout(Duration::from_millis(1)), Err(GetError::Timeout { .. })));
    /// # drop(held);
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<Pooled<'_, M>, GetError<M::Error>> {
        let inner = &*self.inner;
        let served = {
            let mut s = inner.lock();
            inner.try_take(&mut s)
        };
        if let Some(grant) = served {
            // Served at once, without reading the clock.
            inner.acquire_wait.record(0);
            return self.finish(grant, timeout);
        }
        // The wait starts before the caller joins the queue (read outside the lock: a clock is
        // user code), so whatever the clock does while it queues counts towards its timeout.
        let start = inner.now();
        let waiter = {
            let mut s = inner.lock();
            match inner.try_take(&mut s) {
                Some(grant) => {
                    drop(s);
                    let waited = Duration::from_nanos(inner.now().saturating_sub(start));
                    inner.acquire_wait.record_duration(waited);
                    return self.finish(grant, timeout.saturating_sub(waited));
                }
                None => s.waiters.push_current_thread(),
            }
        };
        // Saturating: `Duration::MAX` waits until granted.
        let deadline = start.saturating_add(u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX));
        let elapsed = || Duration::from_nanos(inner.now().saturating_sub(start));
        let mut again = false;
        loop {
            if let Some(grant) = waiter.take_grant() {
                let waited = elapsed();
                inner.acquire_wait.record_duration(waited);
                return self.finish(grant, timeout.saturating_sub(waited));
            }
            let now = inner.now();
            if now >= deadline {
                break;
            }
            // Parks on the OS for what the pool's clock says is left; a manual clock's advance
            // is noticed at the next wake.
            std::thread::park_timeout(recheck_after(Duration::from_nanos(deadline - now), again));
            again = true;
        }
        let waited = elapsed();
        inner.acquire_wait.record_duration(waited);
        match inner.cancel_wait(&waiter) {
            Some(grant) => self.finish(grant, Duration::ZERO),
            None => {
                inner.timeouts.inc();
                Err(GetError::Timeout { waited })
            }
        }
    }

    /// Turns a grant into a checked-out resource: checks an existing one (age, idle time,
    /// validation), or creates one in the reserved slot. `budget` caps the create timeout.
    pub(crate) fn finish(
        &self,
        mut grant: Grant<M::Resource>,
        budget: Duration,
    ) -> Result<Pooled<'_, M>, GetError<M::Error>> {
        let inner = &*self.inner;
        // Each pass destroys one bad idle resource, so this ends within max_size + 1 passes.
        loop {
            match grant {
                Grant::Resource(mut e) => match inner.check_out(&mut e) {
                    Ok(()) => {
                        e.uses += 1;
                        return Ok(Pooled::new(self, e));
                    }
                    Err(reason) => {
                        inner.destroy(e.resource, reason);
                        // We still hold the slot: reuse another idle resource if there is one
                        // (giving the slot back), else create into it.
                        let mut s = inner.lock();
                        // (Idle resources with waiters queued would be theirs: leave them.)
                        let next = if s.waiters.is_empty() { s.idle.pop() } else { None };
                        grant = match next {
                            Some(next) => {
                                s.size -= 1;
                                Grant::Resource(next)
                            }
                            None => Grant::Slot,
                        };
                    }
                },
                Grant::Slot => {
                    let timeout =
                        inner.config.create_timeout.min(budget.max(Duration::from_millis(1)));
                    return match inner.manager.create(timeout) {
                        Ok(resource) => {
                            inner.created.inc();
                            let now = if inner.timed { inner.clock.now_nanos() } else { 0 };
                            let e = Entry {
                                resource,
                                created_at: now,
                                idle_since: now,
                                uses: 1,
                                poisoned: false,
                            };
                            Ok(Pooled::new(self, e))
                        }
                        Err(err) => {
                            inner.create_errors.inc();
                            inner.release_slot();
                            Err(GetError::Create(err))
                        }
                    };
                }
            }
        }
    }

    /// Evicts idle resources past their idle timeout or lifetime, then creates resources until
    /// `min_idle` are idle (or `max_size` is reached). Returns how many it created.
    ///
    /// Call it at startup to pre-connect, then periodically; see the type's docs.
    ///
    /// # Errors
    ///
    /// The first error from [`Manager::create`]; resources created before it stay in the pool.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pool_core::{Manager, ResourcePool};
    /// # struct M; impl Manager for M { type Resource = (); type Error = String;
    /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
    /// let pool = ResourcePool::builder(M).min_idle(3).build().unwrap();
    /// assert_eq!(pool.maintain(), Ok(3));
    /// assert_eq!(pool.stats().idle, 3);
    /// ```
    pub fn maintain(&self) -> Result<usize, M::Error> {
        let inner = &*self.inner;
        if inner.timed {
            let now = inner.clock.now_nanos();
            let expired: Vec<(M::Resource, DestroyReason)> = {
                let mut s = inner.lock();
                let mut out = Vec::new();
                let mut kept = Vec::with_capacity(s.idle.len());
                for e in s.idle.drain(..) {
                    match inner.expired(&e, now) {
                        Some(reason) => out.push((e.resource, reason)),
                        None => kept.push(e),
                    }
                }
                s.idle = kept;
                s.size -= out.len();
                out
            };
            for _ in 0..expired.len() {
                // Freed capacity goes to anyone queued.
                inner.grant_freed_slot();
            }
            for (r, reason) in expired {
                inner.destroy(r, reason);
            }
        }
        let mut made = 0;
        loop {
            {
                let mut s = inner.lock();
                if s.idle.len() >= inner.config.min_idle
                    || s.size >= inner.config.max_size
                    || !s.waiters.is_empty()
                {
                    return Ok(made);
                }
                s.size += 1;
            }
            match inner.manager.create(inner.config.create_timeout) {
                Ok(resource) => {
                    inner.created.inc();
                    made += 1;
                    let now = if inner.timed { inner.clock.now_nanos() } else { 0 };
                    let e = Entry {
                        resource,
                        created_at: now,
                        idle_since: now,
                        uses: 0,
                        poisoned: false,
                    };
                    inner.put_back(e);
                }
                Err(err) => {
                    inner.create_errors.inc();
                    inner.release_slot();
                    return Err(err);
                }
            }
        }
    }

    /// A snapshot of the gauges, counters and the acquire-wait histogram.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pool_core::{Manager, ResourcePool};
    /// # struct M; impl Manager for M { type Resource = (); type Error = String;
    /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
    /// let pool = ResourcePool::new(M);
    /// drop(pool.get().unwrap());
    /// let s = pool.stats();
    /// assert_eq!((s.size, s.idle, s.in_use), (1, 1, 0));
    /// assert_eq!(s.acquire_wait.count, 1);
    /// ```
    #[must_use]
    pub fn stats(&self) -> ResourcePoolStats {
        let inner = &*self.inner;
        let (size, idle, waiting) = {
            let s = inner.lock();
            (s.size, s.idle.len(), s.waiters.len())
        };
        ResourcePoolStats {
            size,
            idle,
            in_use: size - idle,
            waiting,
            created: inner.created.get(),
            create_errors: inner.create_errors.get(),
            destroyed: DestroyReason::ALL.map(|r| inner.destroyed[r.index()].get()),
            detached: inner.detached.get(),
            timeouts: inner.timeouts.get(),
            acquire_wait: inner.acquire_wait.snapshot(),
        }
    }

    pub(crate) fn inner(&self) -> &Inner<M> {
        &self.inner
    }
}

impl<M: Manager> Inner<M> {
    pub(crate) fn now(&self) -> u64 {
        self.clock.now_nanos()
    }

    #[cfg(feature = "async")]
    pub(crate) fn clock(&self) -> StdArc<dyn Clock> {
        StdArc::clone(&self.clock)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State<M::Resource>> {
        lock(&self.state)
    }

    /// Takes an idle resource or reserves a slot, unless someone is queued (FIFO: no barging).
    pub(crate) fn try_take(&self, s: &mut State<M::Resource>) -> Option<Grant<M::Resource>> {
        if !s.waiters.is_empty() {
            return None;
        }
        if let Some(e) = s.idle.pop() {
            return Some(Grant::Resource(e));
        }
        if s.size < self.config.max_size {
            s.size += 1;
            return Some(Grant::Slot);
        }
        None
    }

    /// Queues an async waiter.
    #[cfg(feature = "async")]
    pub(crate) fn enqueue(
        &self,
        s: &mut State<M::Resource>,
        waker: &std::task::Waker,
    ) -> Waiter<Grant<M::Resource>> {
        s.waiters.push_task(waker)
    }

    /// Withdraws a waiter; returns a grant that reached it first (the caller must use or return
    /// it).
    pub(crate) fn cancel_wait(&self, w: &Waiter<Grant<M::Resource>>) -> Option<Grant<M::Resource>> {
        self.lock().waiters.withdraw(w)
    }

    fn check_out(&self, e: &mut Entry<M::Resource>) -> Result<(), DestroyReason> {
        if self.timed
            && let Some(reason) = self.expired(e, self.clock.now_nanos())
        {
            return Err(reason);
        }
        if (e.poisoned || self.config.test_on_checkout)
            && self.manager.validate(&mut e.resource).is_err()
        {
            return Err(DestroyReason::ValidationFailed);
        }
        e.poisoned = false;
        Ok(())
    }

    fn expired(&self, e: &Entry<M::Resource>, now: u64) -> Option<DestroyReason> {
        if now.saturating_sub(e.created_at) >= self.lifetime_nanos {
            Some(DestroyReason::MaxLifetime)
        } else if now.saturating_sub(e.idle_since) >= self.idle_nanos {
            Some(DestroyReason::IdleTimeout)
        } else {
            None
        }
    }

    /// Takes back a resource from a guard: recycle it (not after a panic), retire it if it is
    /// used up or too old, else hand it to the first waiter or make it idle.
    pub(crate) fn give_back(&self, mut e: Entry<M::Resource>, panicking: bool) {
        if panicking {
            // Running user code while unwinding risks an abort; validate at next checkout.
            e.poisoned = true;
        } else if self.manager.recycle(&mut e.resource).is_err() {
            return self.retire(e.resource, DestroyReason::RecycleFailed);
        }
        if self.config.max_uses.is_some_and(|max| e.uses >= max) {
            return self.retire(e.resource, DestroyReason::MaxUses);
        }
        if self.timed {
            let now = self.clock.now_nanos();
            if now.saturating_sub(e.created_at) >= self.lifetime_nanos {
                return self.retire(e.resource, DestroyReason::MaxLifetime);
            }
            e.idle_since = now;
        }
        self.put_back(e);
    }

    fn put_back(&self, e: Entry<M::Resource>) {
        let mut s = self.lock();
        match s.waiters.grant_first(Grant::Resource(e)) {
            Ok(wake) => {
                drop(s);
                wake.wake();
            }
            Err(Grant::Resource(e)) => s.idle.push(e),
            Err(Grant::Slot) => unreachable!("the grant given back is the one offered"),
        }
    }

    /// Destroys a checked-out resource and frees (or passes on) its slot.
    pub(crate) fn retire(&self, r: M::Resource, reason: DestroyReason) {
        self.release_slot();
        self.destroy(r, reason);
    }

    pub(crate) fn detach(&self) {
        self.detached.inc();
        self.release_slot();
    }

    fn destroy(&self, r: M::Resource, reason: DestroyReason) {
        self.destroyed[reason.index()].inc();
        self.manager.destroy(r, reason);
    }

    /// Gives up one slot: to the first waiter (who will create into it), else to the pool.
    pub(crate) fn release_slot(&self) {
        let mut s = self.lock();
        match s.waiters.grant_first(Grant::Slot) {
            Ok(wake) => {
                drop(s);
                wake.wake();
            }
            Err(_) => s.size -= 1,
        }
    }

    /// After `size` was already lowered: hand a new slot to the first waiter, if any.
    fn grant_freed_slot(&self) {
        let mut s = self.lock();
        if s.size < self.config.max_size
            && let Ok(wake) = s.waiters.grant_first(Grant::Slot)
        {
            s.size += 1;
            drop(s);
            wake.wake();
        }
    }

    /// Returns an unused grant (a cancelled async waiter's) to the pool.
    #[cfg(feature = "async")]
    pub(crate) fn return_grant(&self, g: Grant<M::Resource>) {
        match g {
            Grant::Resource(e) => self.put_back(e),
            Grant::Slot => self.release_slot(),
        }
    }
}

impl<M: Manager> Drop for Inner<M> {
    fn drop(&mut self) {
        let idle = std::mem::take(&mut self.lock().idle);
        for e in idle {
            self.destroy(e.resource, DestroyReason::PoolDropped);
        }
    }
}

impl<M: Manager> fmt::Debug for Inner<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inner").field("config", &self.config).finish_non_exhaustive()
    }
}
