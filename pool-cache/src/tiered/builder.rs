//! [`TieredCacheBuilder`] and [`WriteMode`].

use super::cache::TieredCache;
use super::error::{TieredBuildError, TieredBuildErrorKind};
use super::key::TieredKey;
use crate::l1::Policy;
use crate::l2::{DEFAULT_BLOCKING_TIMEOUT, L2, L2Namespace};
use pool_metrics::{Clock, MonotonicClock};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Default bound of the write-behind queue, in distinct keys.
pub const DEFAULT_QUEUE_CAPACITY: usize = 65_536;
/// Default number of queued writes delivered in one `set_many`.
pub const DEFAULT_WRITE_BATCH: usize = 256;
/// Default longest wait of a writer for room in a full write-behind queue.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(1);
/// Default longest wait of `flush`, `close` and drop for the queue to drain.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Default longest wait of a caller for another caller's load of the same key.
pub const DEFAULT_LOAD_WAIT: Duration = Duration::from_secs(60);
/// Default first and longest backoff between write-behind retries while the L2 is down.
pub const DEFAULT_RETRY_BACKOFF: (Duration, Duration) =
    (Duration::from_millis(10), Duration::from_secs(1));

/// How writes reach the L2.
///
/// ```
/// assert_eq!(pool_cache::WriteMode::default(), pool_cache::WriteMode::Through);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum WriteMode {
    /// Each write goes to the L1 and, before the call returns, to the L2.
    #[default]
    Through,
    /// Each write goes to the L1 and into a bounded queue, coalesced per key, that one thread
    /// delivers to the L2 in batches.
    Behind,
    /// Writes stay in the L1; what the L1 evicts for room is queued for the L2 (foyer's
    /// default).
    OnEviction,
}

/// Builds a [`TieredCache`]: an L1 [`Cache`](crate::Cache) over an optional [`L2`].
///
/// ```
/// use pool_cache::{MemoryL2, TieredCache, WriteMode};
/// use std::time::Duration;
///
/// let cache: TieredCache<String, u64> = TieredCache::builder(10_000)
///     .l2(MemoryL2::new(64 << 20)?)
///     .time_to_live(Duration::from_secs(300))
///     .write_mode(WriteMode::Behind)
///     .build()?;
/// cache.insert("a".into(), 1)?;
/// assert_eq!(cache.get(&"a".to_string()), Some(1));
/// assert!(cache.close().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub struct TieredCacheBuilder<K, V> {
    pub(crate) capacity: u64,
    pub(crate) shards: Option<usize>,
    pub(crate) policy: Option<Policy>,
    pub(crate) l2: Option<Arc<dyn L2>>,
    pub(crate) namespace: Option<L2Namespace>,
    pub(crate) ttl: Option<Duration>,
    pub(crate) negative_ttl: Option<Duration>,
    pub(crate) stale_window: Option<Duration>,
    pub(crate) write_mode: WriteMode,
    pub(crate) queue_capacity: usize,
    pub(crate) write_batch: usize,
    pub(crate) write_timeout: Duration,
    pub(crate) drain_timeout: Duration,
    pub(crate) load_wait: Duration,
    pub(crate) l2_timeout: Duration,
    pub(crate) retry_backoff: (Duration, Duration),
    pub(crate) type_version: u32,
    pub(crate) clock: Arc<dyn Clock>,
    /// Redis URL and channel of the invalidation broadcast.
    pub(crate) broadcast: Option<(String, String)>,
    pub(crate) _types: std::marker::PhantomData<fn(K, V)>,
}

impl<K, V> fmt::Debug for TieredCacheBuilder<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TieredCacheBuilder")
            .field("capacity", &self.capacity)
            .field("l2", &self.l2)
            .field("ttl", &self.ttl)
            .field("write_mode", &self.write_mode)
            .finish_non_exhaustive()
    }
}

impl<K, V> TieredCacheBuilder<K, V> {
    pub(crate) fn new(capacity: u64) -> Self {
        Self {
            capacity,
            shards: None,
            policy: None,
            l2: None,
            namespace: None,
            ttl: None,
            negative_ttl: None,
            stale_window: None,
            write_mode: WriteMode::Through,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            write_batch: DEFAULT_WRITE_BATCH,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
            load_wait: DEFAULT_LOAD_WAIT,
            l2_timeout: DEFAULT_BLOCKING_TIMEOUT,
            retry_backoff: DEFAULT_RETRY_BACKOFF,
            type_version: 0,
            clock: Arc::new(MonotonicClock::new()),
            broadcast: None,
            _types: std::marker::PhantomData,
        }
    }

    /// The L2 under the L1 (none by default: an L1-only cache with the tiered read path).
    ///
    /// ```
    /// # use pool_cache::{MemoryL2, TieredCache};
    /// let c: TieredCache<u64, u64> = TieredCache::builder(10).l2(MemoryL2::new(1 << 20)?).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn l2(mut self, l2: impl L2 + 'static) -> Self {
        self.l2 = Some(Arc::new(l2));
        self
    }

    /// An L2 shared with other caches in this process.
    ///
    /// ```
    /// # use pool_cache::{L2, MemoryL2, TieredCache};
    /// # use std::sync::Arc;
    /// let l2: Arc<dyn L2> = Arc::new(MemoryL2::new(1 << 20)?);
    /// let c: TieredCache<u64, u64> = TieredCache::builder(10).shared_l2(l2.clone()).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shared_l2(mut self, l2: Arc<dyn L2>) -> Self {
        self.l2 = Some(l2);
        self
    }

    /// The namespace of this cache's keys inside the L2 (`name:v{version}:` before each key;
    /// none by default). [`TieredCache::invalidate_all`] deletes this prefix from the L2.
    ///
    /// ```
    /// # use pool_cache::{L2Namespace, TieredCache};
    /// let c: TieredCache<u64, u64> = TieredCache::builder(10).namespace(L2Namespace::new("users", 1)?).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn namespace(mut self, namespace: L2Namespace) -> Self {
        self.namespace = Some(namespace);
        self
    }

    /// The one time-to-live of every write, in both tiers (none by default).
    ///
    /// ```
    /// # use pool_cache::TieredCache;
    /// let c: TieredCache<u64, u64> = TieredCache::builder(10).time_to_live(std::time::Duration::from_secs(5)).build()?;
    /// assert_eq!(c.time_to_live(), Some(std::time::Duration::from_secs(5)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn time_to_live(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Negative caching: a loader's "not found" (`Ok(None)` from
    /// [`TieredCache::try_get_optional_with`]) is kept in the L1 for `ttl` (off by default).
    ///
    /// ```
    /// # use pool_cache::TieredCache;
    /// let c: TieredCache<u64, u64> = TieredCache::builder(10).negative_ttl(std::time::Duration::from_secs(1)).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn negative_ttl(mut self, ttl: Duration) -> Self {
        self.negative_ttl = Some(ttl);
        self
    }

    /// Stale-while-revalidate: an L1 entry past its time to live is kept `window` longer;
    /// [`TieredCache::try_get_with_refresh`] serves it and refreshes it in the background
    /// (one refresh per key), and plain reads serve it too. Needs a
    /// [`time_to_live`](Self::time_to_live). Off by default; when on, L1 hits through
    /// `try_get_with_refresh` read the clock.
    ///
    /// ```
    /// # use pool_cache::TieredCache;
    /// use std::time::Duration;
    /// let c: TieredCache<u64, u64> = TieredCache::builder(10)
    ///     .time_to_live(Duration::from_secs(60))
    ///     .stale_while_revalidate(Duration::from_secs(10))
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stale_while_revalidate(mut self, window: Duration) -> Self {
        self.stale_window = Some(window);
        self
    }

    /// How writes reach the L2 (default [`WriteMode::Through`]).
    ///
    /// ```
    /// # use pool_cache::{MemoryL2, TieredCache, WriteMode};
    /// let c: TieredCache<u64, u64> = TieredCache::builder(10).l2(MemoryL2::new(1 << 20)?).write_mode(WriteMode::OnEviction).build()?;
    /// assert_eq!(c.write_mode(), WriteMode::OnEviction);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_mode(mut self, mode: WriteMode) -> Self {
        self.write_mode = mode;
        self
    }

    /// The write-behind queue's bound in distinct keys (default [`DEFAULT_QUEUE_CAPACITY`]).
    ///
    /// ```
    /// # use pool_cache::TieredCache;
    /// let b = TieredCache::<u64, u64>::builder(10).queue_capacity(1024);
    /// # let _ = b;
    /// ```
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity;
        self
    }

    /// Writes per `set_many` delivered by the write-behind thread (default
    /// [`DEFAULT_WRITE_BATCH`]).
    ///
    /// ```
    /// let b = pool_cache::TieredCache::<u64, u64>::builder(10).write_batch(64);
    /// # let _ = b;
    /// ```
    pub fn write_batch(mut self, batch: usize) -> Self {
        self.write_batch = batch;
        self
    }

    /// The longest a writer waits for room in a full write-behind queue before the write comes
    /// back in the `Err` (default [`DEFAULT_WRITE_TIMEOUT`]).
    ///
    /// ```
    /// let b = pool_cache::TieredCache::<u64, u64>::builder(10).write_timeout(std::time::Duration::from_millis(50));
    /// # let _ = b;
    /// ```
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// The longest `flush`, `close` and drop wait for the queue to drain (default
    /// [`DEFAULT_DRAIN_TIMEOUT`]).
    ///
    /// ```
    /// let b = pool_cache::TieredCache::<u64, u64>::builder(10).drain_timeout(std::time::Duration::from_secs(1));
    /// # let _ = b;
    /// ```
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }

    /// The longest a caller waits for another caller's load of the same key before it gets
    /// [`LoadError::Timeout`](crate::LoadError::Timeout) (default [`DEFAULT_LOAD_WAIT`];
    /// blocking calls only).
    ///
    /// ```
    /// let b = pool_cache::TieredCache::<u64, u64>::builder(10).load_wait(std::time::Duration::from_secs(5));
    /// # let _ = b;
    /// ```
    pub fn load_wait(mut self, wait: Duration) -> Self {
        self.load_wait = wait;
        self
    }

    /// The longest one blocking L2 call may take (default
    /// [`DEFAULT_BLOCKING_TIMEOUT`](crate::DEFAULT_BLOCKING_TIMEOUT)).
    ///
    /// ```
    /// let b = pool_cache::TieredCache::<u64, u64>::builder(10).l2_timeout(std::time::Duration::from_secs(1));
    /// # let _ = b;
    /// ```
    pub fn l2_timeout(mut self, timeout: Duration) -> Self {
        self.l2_timeout = timeout;
        self
    }

    /// The first and the longest pause between write-behind retries while the L2 is down
    /// (default [`DEFAULT_RETRY_BACKOFF`]); the pause doubles after each failure.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = pool_cache::TieredCache::<u64, u64>::builder(10).retry_backoff(Duration::from_millis(1), Duration::from_millis(100));
    /// # let _ = b;
    /// ```
    pub fn retry_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.retry_backoff = (first, max);
        self
    }

    /// The version of `V`'s serialized shape, written into every L2 value; values written
    /// under another version read as misses (default 0).
    ///
    /// ```
    /// let b = pool_cache::TieredCache::<u64, u64>::builder(10).type_version(2);
    /// # let _ = b;
    /// ```
    pub fn type_version(mut self, version: u32) -> Self {
        self.type_version = version;
        self
    }

    /// The L1's shard count (a power of two; see [`CacheBuilder::shards`](crate::CacheBuilder::shards)).
    ///
    /// ```
    /// let b = pool_cache::TieredCache::<u64, u64>::builder(10).shards(1);
    /// # let _ = b;
    /// ```
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = Some(shards);
        self
    }

    /// The L1's eviction policy.
    ///
    /// ```
    /// let b = pool_cache::TieredCache::<u64, u64>::builder(10).policy(pool_cache::Policy::Lru);
    /// # let _ = b;
    /// ```
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// Opt-in cross-process invalidation (feature `redis`): every write and invalidation is
    /// published on `channel` of the Redis server at `url`, and messages from other caches on
    /// the channel evict the named keys from this L1. Until a message arrives, another
    /// process's L1 may serve the old value (on loopback: 0.3 ms median, under 3 ms worst of 20,
    /// printed by the `tiered` test `an_invalidation_reaches_another_process_l1`); messages sent while a
    /// subscriber is disconnected are lost to it, so give shared data a time to live too.
    /// Needs an L2.
    ///
    /// ```no_run
    /// # use pool_cache::{RedisL2, TieredCache};
    /// let c: TieredCache<u64, u64> = TieredCache::builder(10)
    ///     .l2(RedisL2::new("redis://127.0.0.1:6379")?)
    ///     .invalidation_broadcast("redis://127.0.0.1:6379", "users-invalidations")
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "redis")]
    pub fn invalidation_broadcast(
        mut self,
        url: impl Into<String>,
        channel: impl Into<String>,
    ) -> Self {
        self.broadcast = Some((url.into(), channel.into()));
        self
    }

    /// The clock of the L1's expiry and the latency histograms (default
    /// [`MonotonicClock`]).
    ///
    /// ```
    /// let b = pool_cache::TieredCache::<u64, u64>::builder(10).clock(pool_cache::ManualClock::new());
    /// # let _ = b;
    /// ```
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }
}

impl<K, V> TieredCacheBuilder<K, V>
where
    K: TieredKey,
    V: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    /// Checks the settings and builds the cache (starting the write-behind thread if any).
    ///
    /// # Errors
    ///
    /// [`TieredBuildError`]: a zero capacity or queue bound, a zero duration, L1 settings the
    /// L1 refuses, a write mode other than `Through` without an L2, or a thread that cannot
    /// start.
    ///
    /// ```
    /// # use pool_cache::{TieredCache, TieredBuildErrorKind, WriteMode};
    /// let err = TieredCache::<u64, u64>::builder(10).write_mode(WriteMode::Behind).build().unwrap_err();
    /// assert_eq!(err.kind(), TieredBuildErrorKind::NoL2);
    /// ```
    pub fn build(self) -> Result<TieredCache<K, V>, TieredBuildError> {
        use TieredBuildErrorKind as E;
        if self.capacity == 0 {
            return Err(TieredBuildError::new(E::Capacity, "l1 capacity must be > 0, got 0"));
        }
        if self.queue_capacity == 0 || self.write_batch == 0 {
            return Err(TieredBuildError::new(
                E::Capacity,
                "queue_capacity and write_batch must be > 0, got 0",
            ));
        }
        let durations = [
            ("time_to_live", self.ttl),
            ("negative_ttl", self.negative_ttl),
            ("stale_while_revalidate", self.stale_window),
            ("write_timeout", Some(self.write_timeout)),
            ("drain_timeout", Some(self.drain_timeout)),
            ("load_wait", Some(self.load_wait)),
            ("l2_timeout", Some(self.l2_timeout)),
            ("retry_backoff", Some(self.retry_backoff.0)),
        ];
        for (name, d) in durations {
            if d.is_some_and(|d| d.is_zero()) {
                return Err(TieredBuildError::new(
                    E::Duration,
                    format!("{name} must be > 0, got 0"),
                ));
            }
        }
        if self.stale_window.is_some() && self.ttl.is_none() {
            return Err(TieredBuildError::new(
                E::Duration,
                "stale_while_revalidate needs a time_to_live to be stale after; set .time_to_live(..)",
            ));
        }
        if self.retry_backoff.1 < self.retry_backoff.0 {
            return Err(TieredBuildError::new(
                E::Duration,
                format!(
                    "the longest retry backoff ({:?}) must be >= the first ({:?})",
                    self.retry_backoff.1, self.retry_backoff.0
                ),
            ));
        }
        if self.l2.is_none() && self.broadcast.is_some() {
            return Err(TieredBuildError::new(
                E::NoL2,
                "the invalidation broadcast needs an l2 to read evicted keys back from; set .l2(..)",
            ));
        }
        if self.l2.is_none() && self.write_mode != WriteMode::Through {
            return Err(TieredBuildError::new(
                E::NoL2,
                format!(
                    "write mode {:?} needs an l2; set .l2(..) or use WriteMode::Through",
                    self.write_mode
                ),
            ));
        }
        TieredCache::from_builder(self)
    }
}
