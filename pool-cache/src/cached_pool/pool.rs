//! [`CachedPool`]: a function memoized over a tiered cache, computed on a `ComputePool`.

use super::builder::{CachedPoolBuilder, Function};
use super::error::{CallError, CallErrorKind};
use super::key::content_key;
use super::lease::Lease;
use super::stats::CachedPoolStats;
use super::traced::{Source, Traced};
use crate::striped::Striped;
use crate::sync::{AtomicU64, Ordering};
use crate::tiered::{Entry, LoadError, Loaded, TieredCache, TieredStats, Via};
use pool_core::{ComputePool, TaskError, TaskHandle};
use pool_metrics::Clock;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A computed value with what it cost to compute (so a hit can count the time it saved).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Memo<O> {
    pub(crate) value: O,
    pub(crate) compute_nanos: u64,
}

/// Memoizes a function that runs on a [`ComputePool`]: each distinct input is computed once,
/// in this process and, with a shared L2, across every process that shares it.
///
/// - The key is blake3 over the function's name, its [version](super::CachedPoolBuilder::version)
///   and the postcard-encoded input.
/// - In-process, identical concurrent calls share one computation (the tiered cache's flight;
///   a failure reaches every caller of that flight, and the next call computes again).
/// - With a shared L2, a process that misses takes a lease (`set_if_absent` of a random token
///   with the lease TTL), reads the L2 once more (the value may have landed meanwhile),
///   computes on the pool while renewing the lease every third of its TTL, writes the value,
///   and only then releases the lease by compare-and-delete. Other processes poll the L2 with
///   a bounded, doubling backoff on the caller's thread (never on a pool worker) until the
///   value lands, the lease expires (a holder that died: they take over), or
///   [`max_wait`](super::CachedPoolBuilder::max_wait) runs out (they compute themselves).
///   A lease that expires early costs a duplicate computation, never a wrong value.
///
/// Call it from outside the pool's own tasks: a call blocks its thread until the value is
/// there.
///
/// ```
/// use pool_cache::CachedPool;
///
/// let pool = pool_core::ComputePool::new(2)?;
/// let fib = CachedPool::builder(pool, "fib", |n: &u32| (1..=*n as u64).product::<u64>()).build()?;
/// assert_eq!(fib.call(&10)?, 3_628_800);
/// assert_eq!(fib.call(&10)?, 3_628_800);
/// assert_eq!(fib.stats().computations, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct CachedPool<I, O> {
    inner: Arc<Inner<I, O>>,
}

impl<I, O> Clone for CachedPool<I, O> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

pub(crate) struct Inner<I, O> {
    pub(crate) pool: ComputePool,
    pub(crate) name: String,
    pub(crate) version: u32,
    pub(crate) function: Function<I, O>,
    pub(crate) cache: TieredCache<[u8; 32], Memo<O>>,
    pub(crate) ttl: Option<Duration>,
    pub(crate) lease_ttl: Duration,
    pub(crate) max_wait: Duration,
    pub(crate) poll_backoff: (Duration, Duration),
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) leases: bool,
    pub(crate) counters: Striped<Counters>,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) calls: AtomicU64,
    pub(crate) l1_hits: AtomicU64,
    pub(crate) shared: AtomicU64,
    pub(crate) lease_l2_hits: AtomicU64,
    pub(crate) computations: AtomicU64,
    pub(crate) saved: AtomicU64,
    pub(crate) saved_nanos: AtomicU64,
    pub(crate) lease_waits: AtomicU64,
    pub(crate) lease_takeovers: AtomicU64,
    pub(crate) wait_timeouts: AtomicU64,
    pub(crate) l2_errors: AtomicU64,
}

pub(crate) fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

impl<I, O> fmt::Debug for CachedPool<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedPool")
            .field("name", &self.inner.name)
            .field("version", &self.inner.version)
            .finish_non_exhaustive()
    }
}

impl<I, O> CachedPool<I, O> {
    /// Starts a builder memoizing `function` under `name` (part of every key: two functions
    /// sharing an L2 need different names), computed on `pool`.
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1)?;
    /// let memo = pool_cache::CachedPool::builder(pool, "double", |x: &u64| x * 2).build()?;
    /// assert_eq!(memo.call(&21)?, 42);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder(
        pool: ComputePool,
        name: impl Into<String>,
        function: impl Fn(&I) -> O + Send + Sync + 'static,
    ) -> CachedPoolBuilder<I, O> {
        CachedPoolBuilder::new(pool, name, function)
    }
}

impl<I, O> CachedPool<I, O>
where
    I: Serialize + Clone + Send + 'static,
    O: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    pub(crate) fn from_parts(
        b: CachedPoolBuilder<I, O>,
        cache: TieredCache<[u8; 32], Memo<O>>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool: b.pool,
                name: b.name,
                version: b.version,
                function: b.function,
                cache,
                ttl: b.ttl,
                lease_ttl: b.lease_ttl,
                max_wait: b.max_wait,
                poll_backoff: b.poll_backoff,
                clock: b.clock,
                leases: b.leases,
                counters: Striped::new(),
            }),
        }
    }

    /// The function's value for `input`: from the L1, the L2, another caller's computation,
    /// or computed on the pool.
    ///
    /// # Errors
    ///
    /// [`CallError`]: the input cannot be serialized ([`CallErrorKind::Input`], nothing
    /// computed or cached), the function panicked ([`CallErrorKind::Compute`]), the pool
    /// refused the task ([`CallErrorKind::Submit`]), or this caller waited too long for
    /// another caller in this process ([`CallErrorKind::Timeout`]).
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1)?;
    /// let memo = pool_cache::CachedPool::builder(pool, "len", |s: &String| s.len()).build()?;
    /// assert_eq!(memo.call(&"four".to_string())?, 4);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn call(&self, input: &I) -> Result<O, CallError> {
        self.call_traced(input).map(|t| t.value)
    }

    /// [`call`](Self::call), also saying where the value came from ([`Source`]) and what
    /// computing it cost: for a caller that reports per request, as a service's access log
    /// or the `pipeline` example does. The counters in [`stats`](Self::stats) move the same
    /// way for both.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    ///
    /// ```
    /// use pool_cache::{CachedPool, MemoryL2, Source};
    /// use std::sync::Arc;
    ///
    /// let l2: Arc<dyn pool_cache::L2> = Arc::new(MemoryL2::new(1 << 20)?);
    /// let pool = pool_core::ComputePool::new(1)?;
    /// let first = CachedPool::builder(pool.clone(), "cube", |x: &u64| x * x * x)
    ///     .shared_l2(l2.clone())
    ///     .build()?;
    /// assert_eq!(first.call_traced(&3)?.source, Source::Computed);
    /// // A second pool over the same L2 (another process, say) finds it there.
    /// let second = CachedPool::builder(pool, "cube", |x: &u64| x * x * x).shared_l2(l2).build()?;
    /// let t = second.call_traced(&3)?;
    /// assert_eq!((t.value, t.source), (27, Source::L2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn call_traced(&self, input: &I) -> Result<Traced<O>, CallError> {
        let inner = &*self.inner;
        bump(&inner.counters.local().calls, 1);
        let key = content_key(&inner.name, inner.version, input).map_err(|e| {
            CallError::new(CallErrorKind::Input, format!("cannot serialize the input: {e}"))
        })?;
        if let Some(Entry::Present(memo)) = inner.cache.inner().l1.get(&key) {
            let c = inner.counters.local();
            bump(&c.l1_hits, 1);
            bump(&c.saved, 1);
            bump(&c.saved_nanos, memo.compute_nanos);
            return Ok(Self::traced(memo, Source::L1));
        }
        let computed = Cell::new(false);
        let via = Cell::new(Via::L1);
        let loaded = inner.cache.read_through_via(
            key,
            Some(|| {
                let (memo, in_l2) = match Lease::new(inner, key) {
                    Some(lease) => lease.obtain(input, &computed)?,
                    None => {
                        computed.set(true);
                        (Self::compute(inner, input)?, false)
                    }
                };
                Ok::<_, CallError>(Loaded { value: Some(memo), write_l2: !in_l2 })
            }),
            &via,
        );
        match loaded {
            Ok(Some(memo)) => {
                let source = match via.get() {
                    _ if computed.get() => Source::Computed,
                    Via::L1 => Source::L1,
                    Via::Flight => Source::Shared,
                    Via::L2 | Via::Loader => Source::L2,
                };
                match source {
                    Source::Computed => {}
                    Source::L1 => {
                        bump(&inner.counters.local().l1_hits, 1);
                        self.count_saved(&memo);
                    }
                    Source::Shared => {
                        bump(&inner.counters.local().shared, 1);
                        self.count_saved(&memo);
                    }
                    _ => self.count_saved(&memo),
                }
                Ok(Self::traced(memo, source))
            }
            Ok(None) => {
                Err(CallError::new(CallErrorKind::Compute, "the computation gave no value"))
            }
            Err(LoadError::Loader(e)) => Err((*e).clone()),
            Err(LoadError::Panicked(m)) => Err(CallError::new(
                CallErrorKind::Compute,
                format!("the computation panicked: {m}"),
            )),
            Err(LoadError::Timeout(d)) => Err(CallError::new(
                CallErrorKind::Timeout,
                format!("waited {d:?} for another caller's computation of this input"),
            )),
        }
    }

    fn traced(memo: Memo<O>, source: Source) -> Traced<O> {
        Traced { value: memo.value, source, compute_time: Duration::from_nanos(memo.compute_nanos) }
    }

    fn count_saved(&self, memo: &Memo<O>) {
        let c = self.inner.counters.local();
        bump(&c.saved, 1);
        bump(&c.saved_nanos, memo.compute_nanos);
    }

    /// Runs the function on the pool, on a copy of `input`, and waits for it.
    pub(crate) fn compute(inner: &Inner<I, O>, input: &I) -> Result<Memo<O>, CallError> {
        Self::submit_timed(inner, input)?.join().map_err(Self::failed)
    }

    /// Submits the function on a copy of `input`, timed inside the task (so the cost a later
    /// hit saves does not include the wait in the pool's queue), and counts the computation.
    pub(crate) fn submit_timed(
        inner: &Inner<I, O>,
        input: &I,
    ) -> Result<TaskHandle<Memo<O>>, CallError> {
        let (f, input, clock) = (inner.function.clone(), input.clone(), inner.clock.clone());
        let handle = inner
            .pool
            .submit(move || {
                let start = clock.now_nanos();
                let value = f(&input);
                Memo { value, compute_nanos: clock.now_nanos().saturating_sub(start) }
            })
            .map_err(|e| {
                CallError::new(
                    CallErrorKind::Submit,
                    format!("the compute pool refused the task: {e}"),
                )
            })?;
        bump(&inner.counters.local().computations, 1);
        Ok(handle)
    }

    /// A task that panicked (or was cancelled) as a call's error.
    pub(crate) fn failed(e: TaskError) -> CallError {
        CallError::new(CallErrorKind::Compute, format!("the computation failed: {e}"))
    }

    /// A snapshot of the counters.
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1)?;
    /// let memo = pool_cache::CachedPool::builder(pool, "id", |x: &u64| *x).build()?;
    /// memo.call(&1)?;
    /// assert_eq!(memo.stats().computations, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn stats(&self) -> CachedPoolStats {
        let c = &self.inner.counters;
        let g = |field: fn(&Counters) -> &AtomicU64| {
            c.iter().map(|stripe| field(stripe).load(Ordering::Relaxed)).sum::<u64>()
        };
        let cache = self.inner.cache.stats();
        CachedPoolStats {
            calls: g(|c| &c.calls),
            l1_hits: g(|c| &c.l1_hits),
            shared: g(|c| &c.shared),
            l2_hits: cache.l2_hits + g(|c| &c.lease_l2_hits),
            computations: g(|c| &c.computations),
            computations_saved: g(|c| &c.saved),
            compute_time_saved: Duration::from_nanos(g(|c| &c.saved_nanos)),
            lease_waits: g(|c| &c.lease_waits),
            lease_takeovers: g(|c| &c.lease_takeovers),
            wait_timeouts: g(|c| &c.wait_timeouts),
            l2_errors: g(|c| &c.l2_errors) + cache.l2_errors,
        }
    }

    /// The counters of the tiered cache under the pool (L1 and L2 detail: sizes, evictions,
    /// L2 latency, decode errors).
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1)?;
    /// let memo = pool_cache::CachedPool::builder(pool, "id", |x: &u64| *x).build()?;
    /// memo.call(&1)?;
    /// memo.call(&1)?;
    /// assert_eq!(memo.cache_stats().l1.hits, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn cache_stats(&self) -> TieredStats {
        self.inner.cache.stats()
    }

    /// Forgets the result for `input` in the L1 and the L2, so the next call computes it.
    ///
    /// # Errors
    ///
    /// [`CallError`] of kind `Input` if `input` cannot be serialized, of kind `L2` if the
    /// L2's delete failed (the L1 is clear; retry).
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1)?;
    /// let memo = pool_cache::CachedPool::builder(pool, "id", |x: &u64| *x).build()?;
    /// memo.call(&1)?;
    /// memo.forget(&1)?;
    /// memo.call(&1)?;
    /// assert_eq!(memo.stats().computations, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn forget(&self, input: &I) -> Result<(), CallError> {
        let inner = &*self.inner;
        let key = content_key(&inner.name, inner.version, input).map_err(|e| {
            CallError::new(CallErrorKind::Input, format!("cannot serialize the input: {e}"))
        })?;
        inner.cache.invalidate(&key).map_err(|e| {
            // The tiered cache counts the failed call in its `l2_errors`.
            CallError::new(CallErrorKind::L2, format!("the l2 delete failed, retry: {e}"))
        })
    }

    /// Forgets every result of this function's name and version, in the L1 and the L2 (by
    /// prefix deletion: every process sharing the L2 then computes again). Other names and
    /// versions are untouched.
    ///
    /// # Errors
    ///
    /// [`CallError`] of kind `L2` if the L2's prefix deletion failed (the L1 is clear; retry).
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1)?;
    /// let memo = pool_cache::CachedPool::builder(pool, "id", |x: &u64| *x)
    ///     .l2(pool_cache::MemoryL2::new(1 << 20)?)
    ///     .build()?;
    /// memo.call(&1)?;
    /// memo.call(&2)?;
    /// memo.forget_all()?;
    /// memo.call(&1)?;
    /// assert_eq!(memo.stats().computations, 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn forget_all(&self) -> Result<(), CallError> {
        let inner = &*self.inner;
        inner.cache.invalidate_all().map_err(|e| {
            // The tiered cache counts the failed call in its `l2_errors`.
            CallError::new(CallErrorKind::L2, format!("the l2 prefix delete failed, retry: {e}"))
        })
    }
}
