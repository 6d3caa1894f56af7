//! [`CachedPoolBuilder`].

use super::error::{CachedPoolBuildError, CachedPoolBuildErrorKind};
use super::pool::{CachedPool, Memo};
use crate::l2::{L2, L2Namespace};
use crate::tiered::TieredCache;
use pool_core::ComputePool;
use pool_metrics::{Clock, MonotonicClock};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Default L1 capacity of a memoizing pool, in results.
pub const DEFAULT_MEMO_CAPACITY: u64 = 10_000;
/// Default lifetime of a compute lease; the holder renews it every third of it while it
/// computes, so it only runs out when the holder is gone.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(10);
/// Default longest wait for another process's computation before computing here anyway.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(60);
/// Default first and longest pause between polls of a waiter.
pub const DEFAULT_POLL_BACKOFF: (Duration, Duration) =
    (Duration::from_millis(2), Duration::from_millis(100));

pub(crate) type Function<I, O> = Arc<dyn Fn(&I) -> O + Send + Sync>;

/// Builds a [`CachedPool`].
///
/// ```
/// use pool_cache::{CachedPool, MemoryL2};
/// use std::time::Duration;
///
/// let pool = pool_core::ComputePool::new(2)?;
/// let memo = CachedPool::builder(pool, "render", |page: &String| page.to_uppercase())
///     .version(3)
///     .l2(MemoryL2::new(1 << 20)?)
///     .time_to_live(Duration::from_secs(3600))
///     .lease_ttl(Duration::from_secs(5))
///     .build()?;
/// assert_eq!(memo.call(&"home".to_string())?, "HOME");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub struct CachedPoolBuilder<I, O> {
    pub(crate) pool: ComputePool,
    pub(crate) name: String,
    pub(crate) function: Function<I, O>,
    pub(crate) version: u32,
    pub(crate) capacity: u64,
    pub(crate) l2: Option<Arc<dyn L2>>,
    pub(crate) ttl: Option<Duration>,
    pub(crate) lease_ttl: Duration,
    pub(crate) max_wait: Duration,
    pub(crate) poll_backoff: (Duration, Duration),
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) leases: bool,
    pub(crate) l2_timeout: Option<Duration>,
}

impl<I, O> fmt::Debug for CachedPoolBuilder<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedPoolBuilder")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("l2", &self.l2)
            .field("lease_ttl", &self.lease_ttl)
            .field("leases", &self.leases)
            .finish_non_exhaustive()
    }
}

impl<I, O> CachedPoolBuilder<I, O> {
    pub(crate) fn new(
        pool: ComputePool,
        name: impl Into<String>,
        function: impl Fn(&I) -> O + Send + Sync + 'static,
    ) -> Self {
        Self {
            pool,
            name: name.into(),
            function: Arc::new(function),
            version: 0,
            capacity: DEFAULT_MEMO_CAPACITY,
            l2: None,
            ttl: None,
            lease_ttl: DEFAULT_LEASE_TTL,
            max_wait: DEFAULT_MAX_WAIT,
            poll_backoff: DEFAULT_POLL_BACKOFF,
            clock: Arc::new(MonotonicClock::new()),
            leases: true,
            l2_timeout: None,
        }
    }

    /// The function's version: bump it when the function changes, and every result of the
    /// old version misses (default 0).
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1)?;
    /// let memo = pool_cache::CachedPool::builder(pool, "f", |x: &u64| *x).version(2).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn version(mut self, version: u32) -> Self {
        self.version = version;
        self
    }

    /// How many results the L1 keeps (default [`DEFAULT_MEMO_CAPACITY`]).
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1)?;
    /// let memo = pool_cache::CachedPool::builder(pool, "f", |x: &u64| *x).capacity(100).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn capacity(mut self, capacity: u64) -> Self {
        self.capacity = capacity;
        self
    }

    /// An L2 shared by every process that should compute each input once (Redis, say).
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1)?;
    /// let memo = pool_cache::CachedPool::builder(pool, "f", |x: &u64| *x)
    ///     .l2(pool_cache::MemoryL2::new(1 << 20)?).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn l2(mut self, l2: impl L2 + 'static) -> Self {
        self.l2 = Some(Arc::new(l2));
        self
    }

    /// An L2 shared with other caches of this process.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// let l2: Arc<dyn pool_cache::L2> = Arc::new(pool_cache::MemoryL2::new(1 << 20)?);
    /// let pool = pool_core::ComputePool::new(1)?;
    /// let memo = pool_cache::CachedPool::builder(pool, "f", |x: &u64| *x).shared_l2(l2).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shared_l2(mut self, l2: Arc<dyn L2>) -> Self {
        self.l2 = Some(l2);
        self
    }

    /// How long results live, in both tiers (default: until evicted).
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1)?;
    /// let memo = pool_cache::CachedPool::builder(pool, "f", |x: &u64| *x)
    ///     .time_to_live(std::time::Duration::from_secs(60)).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn time_to_live(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// The compute lease's lifetime (default [`DEFAULT_LEASE_TTL`]): after a holder dies,
    /// another process takes over within about this long.
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1)?;
    /// let memo = pool_cache::CachedPool::builder(pool, "f", |x: &u64| *x)
    ///     .lease_ttl(std::time::Duration::from_secs(2)).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl;
        self
    }

    /// The longest a caller waits for another process's computation before computing here
    /// (default [`DEFAULT_MAX_WAIT`]).
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1)?;
    /// let memo = pool_cache::CachedPool::builder(pool, "f", |x: &u64| *x)
    ///     .max_wait(std::time::Duration::from_secs(5)).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// The first and longest pause between a waiter's polls of the L2; the pause doubles
    /// after each poll (default [`DEFAULT_POLL_BACKOFF`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// let pool = pool_core::ComputePool::new(1)?;
    /// let memo = pool_cache::CachedPool::builder(pool, "f", |x: &u64| *x)
    ///     .poll_backoff(Duration::from_millis(1), Duration::from_millis(50)).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn poll_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.poll_backoff = (first, max);
        self
    }

    /// The clock that measures compute time and drives the L1's expiry (default
    /// [`MonotonicClock`]). Lease waits sleep in real time.
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1)?;
    /// let memo = pool_cache::CachedPool::builder(pool, "f", |x: &u64| *x)
    ///     .clock(pool_cache::ManualClock::new()).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Whether a miss takes a cross-process compute lease in the L2 (default true; nothing
    /// happens without an L2). Turn it off for an L2 no other process opens, such as a redb
    /// file (redb locks it to one process): each computation then skips the lease's three L2
    /// calls (take, re-read, release). In-process callers still share one computation.
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1)?;
    /// let memo = pool_cache::CachedPool::builder(pool, "f", |x: &u64| *x)
    ///     .l2(pool_cache::MemoryL2::new(1 << 20)?)
    ///     .leases(false)
    ///     .build()?;
    /// assert_eq!(memo.call(&7)?, 7);
    /// assert_eq!(memo.stats().lease_waits, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn leases(mut self, on: bool) -> Self {
        self.leases = on;
        self
    }

    /// The longest one blocking L2 call may take, lease calls included (default: the tiered
    /// cache's, [`DEFAULT_BLOCKING_TIMEOUT`](crate::DEFAULT_BLOCKING_TIMEOUT)). A call that
    /// runs out is an L2 error: a read misses, a lease is skipped (the value is computed here).
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1)?;
    /// let memo = pool_cache::CachedPool::builder(pool, "f", |x: &u64| *x)
    ///     .l2_timeout(std::time::Duration::from_millis(250))
    ///     .build()?;
    /// assert_eq!(memo.call(&7)?, 7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn l2_timeout(mut self, timeout: Duration) -> Self {
        self.l2_timeout = Some(timeout);
        self
    }
}

impl<I, O> CachedPoolBuilder<I, O>
where
    I: Serialize + Clone + Send + 'static,
    O: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    /// Checks the settings and builds the pool.
    ///
    /// # Errors
    ///
    /// [`CachedPoolBuildError`]: an empty name or one holding `:`, a zero lease TTL, max wait
    /// or poll backoff, a longest backoff below the first, or settings the cache refuses (a
    /// zero capacity, TTL or L2 timeout).
    ///
    /// ```
    /// # use pool_cache::{CachedPool, CachedPoolBuildErrorKind};
    /// let pool = pool_core::ComputePool::new(1)?;
    /// let err = CachedPool::builder(pool, "a:b", |x: &u64| *x).build().unwrap_err();
    /// assert_eq!(err.kind(), CachedPoolBuildErrorKind::Name);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(self) -> Result<CachedPool<I, O>, CachedPoolBuildError> {
        use CachedPoolBuildErrorKind as E;
        let namespace = L2Namespace::new(format!("memo-{}", self.name), u64::from(self.version));
        let namespace = match namespace {
            Ok(ns) if !self.name.is_empty() => ns,
            _ => {
                return Err(CachedPoolBuildError::new(
                    E::Name,
                    format!(
                        "the function name must be non-empty and hold no ':', got {:?}",
                        self.name
                    ),
                ));
            }
        };
        for (what, d) in [
            ("lease_ttl", self.lease_ttl),
            ("max_wait", self.max_wait),
            ("poll_backoff", self.poll_backoff.0),
        ] {
            if d.is_zero() {
                return Err(CachedPoolBuildError::new(
                    E::Duration,
                    format!("{what} must be > 0, got 0"),
                ));
            }
        }
        if self.poll_backoff.1 < self.poll_backoff.0 {
            return Err(CachedPoolBuildError::new(
                E::Duration,
                "the longest poll backoff must be >= the first",
            ));
        }
        let mut cache = TieredCache::<[u8; 32], Memo<O>>::builder(self.capacity)
            .namespace(namespace)
            .clock(self.clock.clone());
        if let Some(l2) = &self.l2 {
            cache = cache.shared_l2(l2.clone());
        }
        if let Some(ttl) = self.ttl {
            cache = cache.time_to_live(ttl);
        }
        if let Some(timeout) = self.l2_timeout {
            cache = cache.l2_timeout(timeout);
        }
        let cache = cache.build().map_err(|e| {
            CachedPoolBuildError::new(E::Cache, format!("the cache refused its settings: {e}"))
        })?;
        Ok(CachedPool::from_parts(self, cache))
    }
}
