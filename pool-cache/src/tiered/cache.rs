//! [`TieredCache`]: the L1 [`Cache`] over an optional [`L2`].

use super::builder::{TieredCacheBuilder, WriteMode};
use super::error::{
    FlushError, LoadError, TieredBuildError, TieredBuildErrorKind, WriteError, WriteErrorKind,
};
use super::flight::{Flights, LeaderGuard, Outcome, Role, panic_message};
use super::key::TieredKey;
use super::queue::{Pending, PushError, Queue};
use super::stats::{Counters, TieredStats, bump, export};
use crate::codec::ValueCodec;
use crate::l1::{Cache, RemovalCause};
use crate::l2::{BlockingL2, L2, L2Entry, L2Error};
use crate::sync::{AtomicU64, Ordering};
use pool_metrics::{Clock, Registry, RegistryError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the L1 holds for a key: a value, or a cached "not found" (negative caching).
#[derive(Debug, Clone)]
pub(crate) enum Entry<V> {
    Present(V),
    /// With stale-while-revalidate: the value, fresh until this clock reading (nanoseconds),
    /// stale (still served, and refreshed) after it until the L1 expires it.
    Fresh(V, u64),
    Absent,
}

impl<V> Entry<V> {
    #[inline]
    fn into_option(self) -> Option<V> {
        match self {
            Entry::Present(v) | Entry::Fresh(v, _) => Some(v),
            Entry::Absent => None,
        }
    }
}

/// The L2 side: the async handle, the blocking facade, the key prefix and the codec.
struct L2Side {
    l2: Arc<dyn L2>,
    blocking: Arc<BlockingL2>,
    prefix: Vec<u8>,
    codec: ValueCodec,
}

impl L2Side {
    fn key<K: TieredKey>(&self, key: &K) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.prefix.len() + 16);
        out.extend_from_slice(&self.prefix);
        key.write_l2_key(&mut out);
        out
    }
}

/// A read-through, write-through (or write-behind) cache: an in-memory L1 [`Cache`] over an
/// optional [`L2`] (memory, redb, Redis, or any implementation).
///
/// **Reads** go L1 → L2 → loader. An L2 hit is copied into the L1 for at most the record's
/// remaining time to live. One load per key runs at a time across the whole path: concurrent
/// misses on a key wait for the first caller's L2 lookup and loader, and when that load fails
/// every waiter gets the same error (the workspace's loader rule; see
/// [`try_get_with`](Self::try_get_with)). An L1 hit costs the L1's own `get` and nothing else:
/// no clock read, no allocation (the `l1_hit` criterion bench and the counting-allocator test
/// hold it to that).
///
/// **Writes** reach the L1 and the L2 as [`WriteMode`] says, with the one time to live given
/// at build or per write. With [`WriteMode::Behind`], [`close`](Self::close) is the lossless
/// way to stop: it drains the queue and hands back what it could not deliver. Dropping the
/// last handle drains for at most the drain timeout, then counts
/// ([`TieredStats::queue_abandoned`](crate::TieredStats)) and logs to stderr what it gives up.
///
/// **Invalidation** ([`invalidate`](Self::invalidate) and friends) removes the key from the
/// write-behind queue, the L1 and the L2, and detaches any load in flight, so once it returns
/// no tier of this process serves the old value. Other processes sharing the L2 keep their own
/// L1s: until the opt-in [invalidation broadcast](crate::TieredCacheBuilder) reaches them (or,
/// without it, until their entries expire) they may serve the old value.
///
/// Cloning is cheap and shares the cache.
///
/// ```
/// use pool_cache::{MemoryL2, TieredCache};
///
/// let cache: TieredCache<String, String> =
///     TieredCache::builder(1_000).l2(MemoryL2::new(1 << 20)?).build()?;
/// let v = cache.try_get_with("user:1".to_string(), || Ok::<_, std::io::Error>("Ada".to_string()))?;
/// assert_eq!(v, "Ada");
/// assert_eq!(cache.get(&"user:1".to_string()), Some("Ada".to_string()));
/// cache.invalidate(&"user:1".to_string())?;
/// assert_eq!(cache.get(&"user:1".to_string()), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TieredCache<K, V> {
    inner: Arc<Inner<K, V>>,
}

impl<K, V> Clone for TieredCache<K, V> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

pub(crate) struct Inner<K, V> {
    pub(crate) l1: Cache<K, Entry<V>>,
    l2: Option<L2Side>,
    queue: Option<Arc<Queue<K, V>>>,
    worker: parking_lot::Mutex<Option<JoinHandle<()>>>,
    flights: Flights<K, Entry<V>>,
    /// Bumped by every write and invalidation: a load that began before keeps its value to
    /// itself instead of copying it into the L1 over a newer state.
    epoch: AtomicU64,
    pub(crate) counters: Arc<Counters>,
    clock: Arc<dyn Clock>,
    ttl: Option<Duration>,
    negative_ttl: Option<Duration>,
    write_mode: WriteMode,
    write_timeout: Duration,
    drain_timeout: Duration,
    load_wait: Duration,
    /// The stale-while-revalidate window, and the keys being refreshed in the background.
    stale_window: Option<Duration>,
    refreshing: parking_lot::Mutex<hashbrown::HashSet<K>>,
    exported: parking_lot::Mutex<TieredStats>,
    #[cfg(feature = "redis")]
    broadcast: Option<super::broadcast::Broadcast>,
}

impl<K, V> fmt::Debug for TieredCache<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TieredCache")
            .field("l2", &self.inner.l2.as_ref().map(|s| &s.l2))
            .field("write_mode", &self.inner.write_mode)
            .field("ttl", &self.inner.ttl)
            .finish_non_exhaustive()
    }
}

/// What a loader gave the read path.
pub(crate) struct Loaded<V> {
    pub(crate) value: Option<V>,
    /// Whether the read path should write the value to the L2 (false when the loader already
    /// did, as the memoizing pool's lease winner does).
    pub(crate) write_l2: bool,
}

impl<K, V> TieredCache<K, V> {
    /// Starts a builder for a cache whose L1 holds `capacity` entries.
    ///
    /// ```
    /// let cache: pool_cache::TieredCache<u64, u64> = pool_cache::TieredCache::builder(100).build()?;
    /// # Ok::<(), pool_cache::TieredBuildError>(())
    /// ```
    pub fn builder(capacity: u64) -> TieredCacheBuilder<K, V> {
        TieredCacheBuilder::new(capacity)
    }

    /// The time to live every write gets unless given one.
    ///
    /// ```
    /// let cache: pool_cache::TieredCache<u64, u64> = pool_cache::TieredCache::builder(100).build()?;
    /// assert_eq!(cache.time_to_live(), None);
    /// # Ok::<(), pool_cache::TieredBuildError>(())
    /// ```
    #[must_use]
    pub fn time_to_live(&self) -> Option<Duration> {
        self.inner.ttl
    }

    /// How writes reach the L2.
    ///
    /// ```
    /// let cache: pool_cache::TieredCache<u64, u64> = pool_cache::TieredCache::builder(100).build()?;
    /// assert_eq!(cache.write_mode(), pool_cache::WriteMode::Through);
    /// # Ok::<(), pool_cache::TieredBuildError>(())
    /// ```
    #[must_use]
    pub fn write_mode(&self) -> WriteMode {
        self.inner.write_mode
    }
}

/// The evicted-entry hook of [`WriteMode::OnEviction`].
struct EvictionWriter<K, V> {
    queue: Weak<Queue<K, V>>,
    prefix: Vec<u8>,
    codec: ValueCodec,
    ttl: Duration,
    timeout: Duration,
    counters: Arc<Counters>,
}

impl<K: TieredKey, V: Serialize> EvictionWriter<K, V> {
    fn on_removal(&self, key: K, entry: Entry<V>, cause: RemovalCause) {
        let (RemovalCause::Size, Entry::Present(value) | Entry::Fresh(value, _)) = (cause, entry)
        else {
            return;
        };
        let Some(queue) = self.queue.upgrade() else { return };
        let Ok(bytes) = self.codec.encode(&value) else {
            bump(&self.counters.evictions_dropped, 1);
            return;
        };
        let mut l2_key = self.prefix.clone();
        key.write_l2_key(&mut l2_key);
        match queue.push(l2_key, Pending::new(key, value, bytes, self.ttl), self.timeout) {
            Ok(()) => bump(&self.counters.evictions_written, 1),
            Err(_) => bump(&self.counters.evictions_dropped, 1),
        }
    }
}

impl<K, V> TieredCache<K, V>
where
    K: TieredKey,
    V: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    pub(crate) fn from_builder(b: TieredCacheBuilder<K, V>) -> Result<Self, TieredBuildError> {
        let counters = Arc::new(Counters::default());
        let prefix = b.namespace.as_ref().map(|n| n.prefix().to_vec()).unwrap_or_default();
        let codec = || ValueCodec::new().type_version(b.type_version);
        let l2 = match &b.l2 {
            None => None,
            Some(l2) => {
                let blocking = BlockingL2::with_timeout(l2.clone(), b.l2_timeout).map_err(|e| {
                    TieredBuildError::new(
                        TieredBuildErrorKind::Runtime,
                        format!("cannot start the l2 runtime: {e}"),
                    )
                })?;
                Some(L2Side {
                    l2: l2.clone(),
                    blocking: Arc::new(blocking),
                    prefix: prefix.clone(),
                    codec: codec(),
                })
            }
        };
        let queue = (b.write_mode != WriteMode::Through).then(|| {
            Arc::new(Queue::<K, V>::new(
                b.queue_capacity,
                b.write_batch,
                b.retry_backoff,
                counters.clone(),
            ))
        });
        let mut l1 = Cache::builder(b.capacity).clock(ClockRef(b.clock.clone()));
        if let Some(s) = b.shards {
            l1 = l1.shards(s);
        }
        if let Some(p) = b.policy {
            l1 = l1.policy(p);
        }
        if let Some(ttl) = b.ttl {
            // With stale-while-revalidate every entry carries its own TTL (fresh + window).
            if b.stale_window.is_none() {
                l1 = l1.time_to_live(ttl);
            }
        }
        if let (WriteMode::OnEviction, Some(q)) = (b.write_mode, &queue) {
            let writer = EvictionWriter {
                queue: Arc::downgrade(q),
                prefix,
                codec: codec(),
                ttl: b.ttl.unwrap_or(Duration::MAX),
                timeout: b.write_timeout,
                counters: counters.clone(),
            };
            l1 = l1.removal_listener(move |k, e, cause| writer.on_removal(k, e, cause));
        }
        let l1 = l1.build().map_err(|e| {
            TieredBuildError::new(
                TieredBuildErrorKind::L1,
                format!("the l1 refused its settings: {e}"),
            )
        })?;
        #[cfg(feature = "redis")]
        let broadcast = match &b.broadcast {
            None => None,
            Some((url, channel)) => {
                use super::broadcast::{Broadcast, Invalidation};
                let (l1, prefix) =
                    (l1.clone(), l2.as_ref().map(|s| s.prefix.clone()).unwrap_or_default());
                let apply = move |what: Invalidation<'_>| match what {
                    Invalidation::Key(bytes) => {
                        if let Some(k) =
                            bytes.strip_prefix(prefix.as_slice()).and_then(K::from_l2_key)
                        {
                            l1.remove(&k);
                        }
                    }
                    Invalidation::Prefix(p) => l1.retain(|k: &K, _| {
                        let mut bytes = prefix.clone();
                        k.write_l2_key(&mut bytes);
                        !bytes.starts_with(p)
                    }),
                };
                let started = Broadcast::start(url, channel.clone(), b.l2_timeout, apply);
                Some(
                    started
                        .map_err(|e| TieredBuildError::new(TieredBuildErrorKind::Broadcast, e))?,
                )
            }
        };
        let worker = match (&queue, &l2) {
            (Some(q), Some(side)) => {
                let (q, blocking) = (q.clone(), side.blocking.clone());
                let handle = std::thread::Builder::new()
                    .name("pool-tiered-write-behind".into())
                    .spawn(move || q.run(&blocking))
                    .map_err(|e| {
                        TieredBuildError::new(
                            TieredBuildErrorKind::Runtime,
                            format!("cannot start the write-behind thread: {e}"),
                        )
                    })?;
                Some(handle)
            }
            _ => None,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                l1,
                l2,
                queue,
                worker: parking_lot::Mutex::new(worker),
                flights: Flights::default(),
                epoch: AtomicU64::new(0),
                counters,
                clock: b.clock,
                ttl: b.ttl,
                negative_ttl: b.negative_ttl,
                write_mode: b.write_mode,
                write_timeout: b.write_timeout,
                drain_timeout: b.drain_timeout,
                load_wait: b.load_wait,
                stale_window: b.stale_window,
                refreshing: parking_lot::Mutex::new(hashbrown::HashSet::new()),
                exported: parking_lot::Mutex::new(TieredStats::default()),
                #[cfg(feature = "redis")]
                broadcast,
            }),
        })
    }

    /// The value for `key`: from the L1, else from the L2 (copied into the L1). Concurrent
    /// misses on one key share one L2 lookup. An L2 that fails reads as a miss (counted in
    /// [`TieredStats::l2_errors`](crate::TieredStats)).
    ///
    /// ```
    /// # use pool_cache::{MemoryL2, TieredCache};
    /// let cache: TieredCache<u64, u64> = TieredCache::builder(10).l2(MemoryL2::new(1 << 20)?).build()?;
    /// cache.insert(1, 10)?;
    /// assert_eq!(cache.get(&1), Some(10));
    /// assert_eq!(cache.get(&2), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn get(&self, key: &K) -> Option<V> {
        match self.inner.l1.get(key) {
            Some(e) => e.into_option(),
            None => self.get_slow(key),
        }
    }

    #[cold]
    fn get_slow(&self, key: &K) -> Option<V> {
        self.inner.l2.as_ref()?;
        let loaded: Result<Option<V>, LoadError<()>> =
            self.read_through(key.clone(), None::<fn() -> Result<Loaded<V>, ()>>);
        loaded.ok().flatten()
    }

    /// The value for `key`, running `loader` on a miss in both tiers; the loaded value is
    /// written to both tiers as [`WriteMode`] says.
    ///
    /// The workspace's loader rule: concurrent callers missing on one key wait for the first
    /// caller's L2 lookup and loader. If that loader fails or panics, every waiter of that
    /// flight gets the same error (a loader error is shared as `Arc<E>`), nothing is cached,
    /// and the next call starts a new flight. A waiter whose loader has another error type
    /// than the leader's runs its own loader instead.
    ///
    /// # Errors
    ///
    /// [`LoadError::Loader`] with the loader's error, [`LoadError::Panicked`] if it panicked
    /// (the panic is caught), [`LoadError::Timeout`] if this caller waited
    /// [`load_wait`](crate::TieredCacheBuilder::load_wait) for another caller's loader.
    ///
    /// ```
    /// # use pool_cache::TieredCache;
    /// let cache: TieredCache<u64, String> = TieredCache::builder(10).build()?;
    /// assert_eq!(cache.try_get_with(1, || Ok::<_, std::io::Error>("one".to_string()))?, "one");
    /// assert_eq!(cache.try_get_with(1, || -> Result<String, std::io::Error> { unreachable!() })?, "one");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_get_with<E: Send + Sync + 'static>(
        &self,
        key: K,
        loader: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, LoadError<E>> {
        if let Some(Entry::Present(v) | Entry::Fresh(v, _)) = self.inner.l1.get(&key) {
            return Ok(v);
        }
        let mut loader = Some(loader);
        let loaded = self.read_through(
            key.clone(),
            Some(|| match loader.take() {
                Some(f) => f().map(|v| Loaded { value: Some(v), write_l2: true }),
                None => unreachable_loader(),
            }),
        )?;
        match (loaded, loader.take()) {
            (Some(v), _) => Ok(v),
            // A "not found" cached by a `try_get_optional_with` caller, and this caller's
            // loader never ran: it runs now, outside the flight, and its value replaces it.
            (None, Some(f)) => {
                bump(&self.inner.counters.loads, 1);
                match catch_unwind(AssertUnwindSafe(f)) {
                    Ok(Ok(v)) => {
                        let epoch = self.inner.epoch.load(Ordering::Acquire);
                        self.store_loaded(
                            key,
                            Loaded { value: Some(v.clone()), write_l2: true },
                            epoch,
                        );
                        Ok(v)
                    }
                    Ok(Err(e)) => {
                        bump(&self.inner.counters.load_errors, 1);
                        Err(LoadError::Loader(Arc::new(e)))
                    }
                    Err(p) => {
                        bump(&self.inner.counters.load_errors, 1);
                        Err(LoadError::Panicked(panic_message(&*p)))
                    }
                }
            }
            (None, None) => Err(LoadError::Panicked(Arc::from("the loader gave no value"))),
        }
    }

    /// [`try_get_with`](Self::try_get_with) with stale-while-revalidate (see
    /// [`stale_while_revalidate`](crate::TieredCacheBuilder::stale_while_revalidate)): a value
    /// past its time to live but inside the stale window is returned at once, and `loader`
    /// refreshes it on a background thread, one refresh per key at a time (a refresh that
    /// fails is counted in `load_errors` and the next stale read tries again). Without the
    /// option, or on a miss, this is `try_get_with`. Reads the clock on a hit when the option
    /// is on.
    ///
    /// # Errors
    ///
    /// As [`try_get_with`](Self::try_get_with), on a miss.
    ///
    /// ```
    /// use pool_cache::{ManualClock, TieredCache};
    /// use std::time::Duration;
    ///
    /// let clock = ManualClock::new();
    /// let cache: TieredCache<u64, u64> = TieredCache::builder(10)
    ///     .time_to_live(Duration::from_secs(10))
    ///     .stale_while_revalidate(Duration::from_secs(5))
    ///     .clock(clock.clone())
    ///     .build()?;
    /// cache.insert(1, 1)?;
    /// clock.advance(Duration::from_secs(12)); // stale, inside the window
    /// assert_eq!(cache.try_get_with_refresh(1, || Ok::<_, std::io::Error>(2))?, 1); // served stale
    /// let deadline = std::time::Instant::now() + Duration::from_secs(10);
    /// while cache.get(&1) != Some(2) && std::time::Instant::now() < deadline {
    ///     std::thread::yield_now(); // the refresh runs in the background
    /// }
    /// assert_eq!(cache.get(&1), Some(2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_get_with_refresh<E: Send + Sync + 'static>(
        &self,
        key: K,
        loader: impl FnOnce() -> Result<V, E> + Send + 'static,
    ) -> Result<V, LoadError<E>> {
        match self.inner.l1.get(&key) {
            Some(Entry::Present(v)) => Ok(v),
            Some(Entry::Fresh(v, until)) => {
                if self.inner.clock.now_nanos() >= until {
                    self.refresh(key, loader);
                }
                Ok(v)
            }
            _ => self.try_get_with(key, loader),
        }
    }

    /// Runs `loader` on a background thread and writes its value, unless a refresh of `key` is
    /// already running.
    fn refresh<E: Send + Sync + 'static>(
        &self,
        key: K,
        loader: impl FnOnce() -> Result<V, E> + Send + 'static,
    ) {
        if !self.inner.refreshing.lock().insert(key.clone()) {
            return;
        }
        let cache = self.clone();
        let (k, done) = (key.clone(), key.clone());
        let spawned =
            std::thread::Builder::new().name("pool-tiered-refresh".into()).spawn(move || {
                bump(&cache.inner.counters.loads, 1);
                match catch_unwind(AssertUnwindSafe(loader)) {
                    Ok(Ok(v)) => {
                        let _ = cache.insert(k, v);
                    }
                    _ => bump(&cache.inner.counters.load_errors, 1),
                }
                cache.inner.refreshing.lock().remove(&done);
            });
        if spawned.is_err() {
            self.inner.refreshing.lock().remove(&key);
        }
    }

    /// Like [`try_get_with`](Self::try_get_with) with a loader that may answer "not found"
    /// (`Ok(None)`): cached in the L1 for the [`negative_ttl`](crate::TieredCacheBuilder::negative_ttl)
    /// if one is set (never in the L2).
    ///
    /// # Errors
    ///
    /// As [`try_get_with`](Self::try_get_with).
    ///
    /// ```
    /// # use pool_cache::TieredCache;
    /// use std::cell::Cell;
    /// let cache: TieredCache<u64, u64> =
    ///     TieredCache::builder(10).negative_ttl(std::time::Duration::from_secs(60)).build()?;
    /// let calls = Cell::new(0);
    /// let lookup = || { calls.set(calls.get() + 1); Ok::<Option<u64>, std::io::Error>(None) };
    /// assert_eq!(cache.try_get_optional_with(7, lookup)?, None);
    /// assert_eq!(cache.try_get_optional_with(7, lookup)?, None);
    /// assert_eq!(calls.get(), 1); // the second "not found" came from the L1
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_get_optional_with<E: Send + Sync + 'static>(
        &self,
        key: K,
        loader: impl FnOnce() -> Result<Option<V>, E>,
    ) -> Result<Option<V>, LoadError<E>> {
        if let Some(e) = self.inner.l1.get(&key) {
            return Ok(e.into_option());
        }
        self.read_through(key, Some(|| loader().map(|value| Loaded { value, write_l2: true })))
    }

    /// The async form of [`try_get_with`](Self::try_get_with): waiters await the leader
    /// without blocking their thread, and the L2 is called through its async interface (for
    /// `RedisL2`, call this inside a tokio runtime). If the leader's future is dropped, a
    /// waiter takes the flight over with its own loader. Writes to a full write-behind queue
    /// block for at most the write timeout.
    ///
    /// # Errors
    ///
    /// As [`try_get_with`](Self::try_get_with), without `Timeout`: bound the wait with your
    /// runtime's timeout.
    ///
    /// ```
    /// # use pool_cache::TieredCache;
    /// let cache: TieredCache<u64, u64> = TieredCache::builder(10).build()?;
    /// let v = futures::executor::block_on(cache.try_get_with_async(1, async { Ok::<_, std::io::Error>(5) }))?;
    /// assert_eq!(v, 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn try_get_with_async<E: Send + Sync + 'static>(
        &self,
        key: K,
        loader: impl Future<Output = Result<V, E>>,
    ) -> Result<V, LoadError<E>> {
        if let Some(Entry::Present(v) | Entry::Fresh(v, _)) = self.inner.l1.get(&key) {
            return Ok(v);
        }
        let loaded = self.read_through_async(key, async { loader.await.map(Some) }).await?;
        // `None` only when a `try_get_optional_with` caller cached "not found" for this key.
        loaded.ok_or_else(|| {
            LoadError::Panicked(Arc::from(
                "a cached \"not found\" answered a loader that must give a value",
            ))
        })
    }

    /// The async form of [`try_get_optional_with`](Self::try_get_optional_with).
    ///
    /// # Errors
    ///
    /// As [`try_get_with_async`](Self::try_get_with_async).
    ///
    /// ```
    /// # use pool_cache::TieredCache;
    /// let cache: TieredCache<u64, u64> = TieredCache::builder(10).build()?;
    /// let v = futures::executor::block_on(cache.try_get_optional_with_async(1, async { Ok::<_, std::io::Error>(None) }))?;
    /// assert_eq!(v, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn try_get_optional_with_async<E: Send + Sync + 'static>(
        &self,
        key: K,
        loader: impl Future<Output = Result<Option<V>, E>>,
    ) -> Result<Option<V>, LoadError<E>> {
        if let Some(e) = self.inner.l1.get(&key) {
            return Ok(e.into_option());
        }
        self.read_through_async(key, loader).await
    }

    /// Turns a finished flight's outcome into this caller's answer; `None` means "start over".
    fn settle<E: Send + Sync + 'static>(
        outcome: Outcome<Entry<V>>,
        has_loader: bool,
    ) -> Option<Result<Option<V>, LoadError<E>>> {
        match outcome {
            Outcome::Value(v) => Some(Ok(v.and_then(Entry::into_option))),
            Outcome::Missing if has_loader => None,
            Outcome::Missing => Some(Ok(None)),
            Outcome::Failed(e) => match e.downcast::<E>() {
                Ok(e) => Some(Err(LoadError::Loader(e))),
                Err(_) => None, // another error type: run this caller's own loader
            },
            Outcome::Panicked(m) => Some(Err(LoadError::Panicked(m))),
            Outcome::Abandoned => None,
        }
    }

    /// The blocking read path below the L1: one flight per key over the L2 lookup and the
    /// loader.
    pub(crate) fn read_through<E: Send + Sync + 'static>(
        &self,
        key: K,
        loader: Option<impl FnOnce() -> Result<Loaded<V>, E>>,
    ) -> Result<Option<V>, LoadError<E>> {
        let inner = &*self.inner;
        let slot = loop {
            if let Some(e) = inner.l1.get(&key) {
                return Ok(e.into_option());
            }
            match inner.flights.join(&key) {
                Role::Leader(slot) => break slot,
                Role::Waiter(slot) => match slot.wait(inner.load_wait) {
                    None => return Err(LoadError::Timeout(inner.load_wait)),
                    Some(o) => {
                        if let Some(answer) = Self::settle(o, loader.is_some()) {
                            return answer;
                        }
                    }
                },
            }
        };
        let epoch = inner.epoch.load(Ordering::Acquire);
        let mut guard =
            LeaderGuard { flights: &inner.flights, key: key.clone(), slot, outcome: None };
        // A leader that finished between our miss and our join has filled the L1.
        if let Some(e) = inner.l1.peek(&key) {
            let v = e.into_option();
            guard.outcome = Some(Outcome::Value(v.clone().map(Entry::Present)));
            return Ok(v);
        }
        if let Some(side) = &inner.l2 {
            let start = inner.clock.now_nanos();
            let l2_key = side.key(&key);
            let got = side.blocking.get(&l2_key);
            inner.counters.l2_latency.record(inner.clock.now_nanos().saturating_sub(start));
            if let Some(v) = self.l2_answer(&key, got, epoch) {
                guard.outcome = Some(Outcome::Value(Some(Entry::Present(v.clone()))));
                return Ok(Some(v));
            }
        }
        let Some(loader) = loader else {
            guard.outcome = Some(Outcome::Missing);
            return Ok(None);
        };
        bump(&inner.counters.loads, 1);
        let start = inner.clock.now_nanos();
        let result = catch_unwind(AssertUnwindSafe(loader));
        inner.counters.load_latency.record(inner.clock.now_nanos().saturating_sub(start));
        let (outcome, answer) = match result {
            Ok(Ok(loaded)) => {
                let v = loaded.value.clone();
                self.store_loaded(key, loaded, epoch);
                (Outcome::Value(v.clone().map(Entry::Present)), Ok(v))
            }
            Ok(Err(e)) => {
                bump(&inner.counters.load_errors, 1);
                let e = Arc::new(e);
                let shared: Arc<dyn Any + Send + Sync> = e.clone();
                (Outcome::Failed(shared), Err(LoadError::Loader(e)))
            }
            Err(payload) => {
                bump(&inner.counters.load_errors, 1);
                let m = panic_message(&*payload);
                (Outcome::Panicked(m.clone()), Err(LoadError::Panicked(m)))
            }
        };
        guard.outcome = Some(outcome);
        answer
    }

    /// The async read path below the L1.
    async fn read_through_async<E: Send + Sync + 'static>(
        &self,
        key: K,
        loader: impl Future<Output = Result<Option<V>, E>>,
    ) -> Result<Option<V>, LoadError<E>> {
        let inner = &*self.inner;
        let slot = loop {
            if let Some(e) = inner.l1.get(&key) {
                return Ok(e.into_option());
            }
            match inner.flights.join(&key) {
                Role::Leader(slot) => break slot,
                Role::Waiter(slot) => {
                    if let Some(answer) = Self::settle(slot.wait_async().await, true) {
                        return answer;
                    }
                }
            }
        };
        let epoch = inner.epoch.load(Ordering::Acquire);
        let mut guard =
            LeaderGuard { flights: &inner.flights, key: key.clone(), slot, outcome: None };
        if let Some(e) = inner.l1.peek(&key) {
            let v = e.into_option();
            guard.outcome = Some(Outcome::Value(v.clone().map(Entry::Present)));
            return Ok(v);
        }
        if let Some(side) = &inner.l2 {
            let start = inner.clock.now_nanos();
            let l2_key = side.key(&key);
            let got = side.l2.get(&l2_key).await;
            inner.counters.l2_latency.record(inner.clock.now_nanos().saturating_sub(start));
            if let Some(v) = self.l2_answer(&key, got, epoch) {
                guard.outcome = Some(Outcome::Value(Some(Entry::Present(v.clone()))));
                return Ok(Some(v));
            }
        }
        bump(&inner.counters.loads, 1);
        let start = inner.clock.now_nanos();
        let result = CatchUnwind(Box::pin(loader)).await;
        inner.counters.load_latency.record(inner.clock.now_nanos().saturating_sub(start));
        let (outcome, answer) = match result {
            Ok(Ok(value)) => {
                let loaded = Loaded { value: value.clone(), write_l2: true };
                self.store_loaded_async(key, loaded, epoch).await;
                (Outcome::Value(value.clone().map(Entry::Present)), Ok(value))
            }
            Ok(Err(e)) => {
                bump(&inner.counters.load_errors, 1);
                let e = Arc::new(e);
                let shared: Arc<dyn Any + Send + Sync> = e.clone();
                (Outcome::Failed(shared), Err(LoadError::Loader(e)))
            }
            Err(payload) => {
                bump(&inner.counters.load_errors, 1);
                let m = panic_message(&*payload);
                (Outcome::Panicked(m.clone()), Err(LoadError::Panicked(m)))
            }
        };
        guard.outcome = Some(outcome);
        answer
    }

    /// Counts an L2 answer and, on a hit, backfills the L1 (unless a write or invalidation
    /// came since `epoch`) for at most the record's remaining time to live.
    fn l2_answer(&self, key: &K, got: Result<Option<L2Entry>, L2Error>, epoch: u64) -> Option<V> {
        let inner = &*self.inner;
        let side = inner.l2.as_ref()?;
        let entry = match got {
            Ok(Some(entry)) => entry,
            Ok(None) => {
                bump(&inner.counters.l2_misses, 1);
                return None;
            }
            Err(_) => {
                bump(&inner.counters.l2_errors, 1);
                return None;
            }
        };
        bump(&inner.counters.l2_bytes_read, entry.value.len() as u64);
        let Some(v) = side.codec.read::<V>(&entry.value) else {
            bump(&inner.counters.l2_decode_errors, 1);
            bump(&inner.counters.l2_misses, 1);
            return None;
        };
        bump(&inner.counters.l2_hits, 1);
        if inner.epoch.load(Ordering::Acquire) == epoch {
            let ttl = match (entry.ttl, inner.ttl) {
                (Some(left), Some(ttl)) => Some(left.min(ttl)),
                (Some(left), None) => Some(left),
                (None, ttl) => ttl,
            };
            self.l1_put(key.clone(), Entry::Present(v.clone()), ttl);
        }
        Some(v)
    }

    /// Stores a loader's answer: a value in both tiers, a "not found" in the L1 only.
    fn store_loaded(&self, key: K, loaded: Loaded<V>, epoch: u64) {
        let inner = &*self.inner;
        if inner.epoch.load(Ordering::Acquire) != epoch {
            return; // invalidated or rewritten while loading: keep the value to this flight
        }
        match loaded.value {
            Some(v) if loaded.write_l2 => {
                // A loader's value that cannot reach the L2 still serves this process.
                if let Err(e) = self.write(key, v, inner.ttl) {
                    let (k, v) = e.into_inner();
                    self.l1_put(k, Entry::Present(v), inner.ttl);
                }
            }
            Some(v) => self.l1_put(key, Entry::Present(v), inner.ttl),
            None => {
                if let Some(ttl) = inner.negative_ttl {
                    inner.l1.insert_with_ttl(key, Entry::Absent, ttl);
                }
            }
        }
    }

    async fn store_loaded_async(&self, key: K, loaded: Loaded<V>, epoch: u64) {
        let inner = &*self.inner;
        let (Some(side), Some(v), WriteMode::Through) =
            (&inner.l2, &loaded.value, inner.write_mode)
        else {
            return self.store_loaded(key, loaded, epoch);
        };
        if inner.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        self.l1_put(key.clone(), Entry::Present(v.clone()), inner.ttl);
        let Ok(bytes) = side.codec.encode(v) else { return };
        let l2_key = side.key(&key);
        let ttl = inner.ttl.unwrap_or(Duration::MAX);
        match side.l2.set(&l2_key, &bytes, ttl).await {
            Ok(()) => bump(&inner.counters.l2_bytes_written, bytes.len() as u64),
            Err(_) => bump(&inner.counters.l2_errors, 1),
        }
    }

    /// Whether writes and invalidations are published to other processes.
    fn broadcasting(&self) -> bool {
        #[cfg(feature = "redis")]
        return self.inner.broadcast.is_some();
        #[cfg(not(feature = "redis"))]
        false
    }

    /// Tells other processes' L1s to drop `key` (or every key under `prefix`, with `prefix`).
    #[cfg_attr(not(feature = "redis"), allow(unused_variables))]
    fn announce(&self, key: Option<&K>, prefix: Option<&[u8]>) {
        #[cfg(feature = "redis")]
        if let (Some(b), Some(side)) = (&self.inner.broadcast, &self.inner.l2) {
            use super::broadcast::Invalidation;
            let sent = match (key, prefix) {
                (Some(k), _) => b.publish(Invalidation::Key(&side.key(k))),
                (None, Some(p)) => b.publish(Invalidation::Prefix(p)),
                (None, None) => true,
            };
            if !sent {
                bump(&self.inner.counters.broadcast_errors, 1);
            }
        }
    }

    fn l1_put(&self, key: K, entry: Entry<V>, ttl: Option<Duration>) {
        if let (Some(window), Entry::Present(v), Some(fresh)) =
            (self.inner.stale_window, &entry, ttl)
        {
            let until = self.inner.clock.now_nanos().saturating_add(nanos(fresh));
            let entry = Entry::Fresh(v.clone(), until);
            self.inner.l1.insert_with_ttl(key, entry, fresh.saturating_add(window));
            return;
        }
        match ttl {
            Some(ttl) => self.inner.l1.insert_with_ttl(key, entry, ttl),
            None => self.inner.l1.insert(key, entry),
        }
    }

    /// Writes `value` under `key` with the cache's time to live, to the L1 and to the L2 as
    /// the [`WriteMode`] says.
    ///
    /// # Errors
    ///
    /// [`WriteError`], with the key and value handed back: the value cannot be encoded
    /// (nothing written), the write-through L2 write failed (the L1 holds the value), the
    /// write-behind queue stayed full for the write timeout, or the cache is closed.
    ///
    /// ```
    /// # use pool_cache::TieredCache;
    /// let cache: TieredCache<u64, u64> = TieredCache::builder(10).build()?;
    /// cache.insert(1, 1)?;
    /// assert_eq!(cache.get(&1), Some(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn insert(&self, key: K, value: V) -> Result<(), WriteError<K, V>> {
        self.write(key, value, self.inner.ttl)
    }

    /// [`insert`](Self::insert) with this write's own time to live, in both tiers.
    ///
    /// # Errors
    ///
    /// As [`insert`](Self::insert); also [`WriteErrorKind::ZeroTtl`] for a zero `ttl`.
    ///
    /// ```
    /// # use pool_cache::{ManualClock, TieredCache};
    /// use std::time::Duration;
    /// let clock = ManualClock::new();
    /// let cache: TieredCache<u64, u64> = TieredCache::builder(10).clock(clock.clone()).build()?;
    /// cache.insert_with_ttl(1, 1, Duration::from_secs(1))?;
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(cache.get(&1), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn insert_with_ttl(&self, key: K, value: V, ttl: Duration) -> Result<(), WriteError<K, V>> {
        if ttl.is_zero() {
            return Err(WriteError::new(WriteErrorKind::ZeroTtl, key, value));
        }
        self.write(key, value, Some(ttl))
    }

    fn write(&self, key: K, value: V, ttl: Option<Duration>) -> Result<(), WriteError<K, V>> {
        let announced = self.broadcasting().then(|| key.clone());
        let written = self.write_tiers(key, value, ttl);
        if let Some(k) = announced
            && written.is_ok()
        {
            self.announce(Some(&k), None);
        }
        written
    }

    fn write_tiers(&self, key: K, value: V, ttl: Option<Duration>) -> Result<(), WriteError<K, V>> {
        let inner = &*self.inner;
        let encoded = match (&inner.l2, inner.write_mode) {
            (Some(side), WriteMode::Through | WriteMode::Behind) => match side.codec.encode(&value)
            {
                Ok(bytes) => Some((side, bytes)),
                Err(e) => return Err(WriteError::new(WriteErrorKind::Encode(e), key, value)),
            },
            _ => None,
        };
        if let (Some(q), WriteMode::Behind) = (&inner.queue, inner.write_mode)
            && let Some((side, bytes)) = encoded
        {
            let l2_key = side.key(&key);
            let pending =
                Pending::new(key.clone(), value.clone(), bytes, ttl.unwrap_or(Duration::MAX));
            if let Err((p, why)) = q.push(l2_key, pending, inner.write_timeout) {
                let kind = match why {
                    PushError::Full => WriteErrorKind::QueueFull(inner.write_timeout),
                    PushError::Closed => WriteErrorKind::Closed,
                };
                return Err(WriteError::new(kind, p.key, p.value));
            }
            inner.epoch.fetch_add(1, Ordering::AcqRel);
            self.l1_put(key, Entry::Present(value), ttl);
            return Ok(());
        }
        inner.epoch.fetch_add(1, Ordering::AcqRel);
        match encoded {
            Some((side, bytes)) => {
                self.l1_put(key.clone(), Entry::Present(value.clone()), ttl);
                let l2_key = side.key(&key);
                let start = inner.clock.now_nanos();
                let r = side.blocking.set(&l2_key, &bytes, ttl.unwrap_or(Duration::MAX));
                inner.counters.l2_latency.record(inner.clock.now_nanos().saturating_sub(start));
                match r {
                    Ok(()) => {
                        bump(&inner.counters.l2_bytes_written, bytes.len() as u64);
                        Ok(())
                    }
                    Err(e) => {
                        bump(&inner.counters.l2_errors, 1);
                        Err(WriteError::new(WriteErrorKind::L2(e), key, value))
                    }
                }
            }
            None => {
                self.l1_put(key, Entry::Present(value), ttl);
                Ok(())
            }
        }
    }

    /// Removes `key` from every tier of this process: a queued write-behind write of it, the
    /// L1, the L2, and any load in flight (whose value then reaches only its own callers).
    ///
    /// # Errors
    ///
    /// The L2's error when its delete failed; the queue and the L1 are already clear then,
    /// but the L2 may still hold the key: retry.
    ///
    /// ```
    /// # use pool_cache::{MemoryL2, TieredCache};
    /// let cache: TieredCache<u64, u64> = TieredCache::builder(10).l2(MemoryL2::new(1 << 20)?).build()?;
    /// cache.insert(1, 1)?;
    /// cache.invalidate(&1)?;
    /// assert_eq!(cache.get(&1), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn invalidate(&self, key: &K) -> Result<(), L2Error> {
        let inner = &*self.inner;
        inner.epoch.fetch_add(1, Ordering::AcqRel);
        inner.flights.forget(key);
        let l2_key = inner.l2.as_ref().map(|side| side.key(key));
        if let (Some(q), Some(k)) = (&inner.queue, &l2_key) {
            q.remove_where(|queued| queued == k.as_slice());
        }
        inner.l1.remove(key);
        if let (Some(side), Some(k)) = (&inner.l2, l2_key) {
            side.blocking.delete(&k).inspect_err(|_| bump(&inner.counters.l2_errors, 1))?;
        }
        self.announce(Some(key), None);
        Ok(())
    }

    /// Removes every key starting with `prefix` from every tier of this process (the L2 by
    /// prefix deletion under this cache's namespace).
    ///
    /// # Errors
    ///
    /// The L2's error when its prefix deletion failed (the queue and the L1 are clear).
    ///
    /// ```
    /// # use pool_cache::{MemoryL2, TieredCache};
    /// let cache: TieredCache<String, u64> = TieredCache::builder(10).l2(MemoryL2::new(1 << 20)?).build()?;
    /// cache.insert("user:1".into(), 1)?;
    /// cache.insert("order:1".into(), 2)?;
    /// cache.invalidate_prefix("user:")?;
    /// assert_eq!(cache.get(&"user:1".to_string()), None);
    /// assert_eq!(cache.get(&"order:1".to_string()), Some(2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn invalidate_prefix(&self, prefix: &str) -> Result<(), L2Error>
    where
        K: AsRef<str>,
    {
        let inner = &*self.inner;
        inner.epoch.fetch_add(1, Ordering::AcqRel);
        inner.flights.forget_all();
        let l2_prefix = inner.l2.as_ref().map(|side| {
            let mut p = side.prefix.clone();
            p.extend_from_slice(prefix.as_bytes());
            p
        });
        if let (Some(q), Some(p)) = (&inner.queue, &l2_prefix) {
            q.remove_where(|queued| queued.starts_with(p));
        }
        inner.l1.invalidate_prefix(prefix);
        if let (Some(side), Some(p)) = (&inner.l2, l2_prefix) {
            side.blocking.delete_prefix(&p).inspect_err(|_| bump(&inner.counters.l2_errors, 1))?;
            self.announce(None, Some(&p));
        }
        Ok(())
    }

    /// Removes every key of this cache from every tier of this process: the whole L1, the
    /// queue, and in the L2 everything under this cache's
    /// [`namespace`](crate::TieredCacheBuilder::namespace) (the whole L2 without one).
    ///
    /// # Errors
    ///
    /// The L2's error when its prefix deletion failed (the queue and the L1 are clear).
    ///
    /// ```
    /// # use pool_cache::{L2Namespace, MemoryL2, TieredCache};
    /// let cache: TieredCache<u64, u64> = TieredCache::builder(10)
    ///     .l2(MemoryL2::new(1 << 20)?).namespace(L2Namespace::new("n", 1)?).build()?;
    /// cache.insert(1, 1)?;
    /// cache.invalidate_all()?;
    /// assert_eq!(cache.get(&1), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn invalidate_all(&self) -> Result<(), L2Error> {
        let inner = &*self.inner;
        inner.epoch.fetch_add(1, Ordering::AcqRel);
        inner.flights.forget_all();
        if let Some(q) = &inner.queue {
            q.remove_where(|_| true);
        }
        inner.l1.invalidate_all();
        if let Some(side) = &inner.l2 {
            side.blocking
                .delete_prefix(&side.prefix)
                .inspect_err(|_| bump(&inner.counters.l2_errors, 1))?;
            self.announce(None, Some(&side.prefix));
        }
        Ok(())
    }

    /// Waits until every queued write-behind write has reached the L2, for at most the drain
    /// timeout. Without a queue, returns at once.
    ///
    /// # Errors
    ///
    /// [`FlushError`] with the writes still queued when the time ran out (the L2 is down,
    /// say); they stay queued and keep being retried.
    ///
    /// ```
    /// # use pool_cache::{MemoryL2, TieredCache, WriteMode};
    /// let cache: TieredCache<u64, u64> = TieredCache::builder(10)
    ///     .l2(MemoryL2::new(1 << 20)?).write_mode(WriteMode::Behind).build()?;
    /// cache.insert(1, 1)?;
    /// cache.flush()?;
    /// assert_eq!(cache.stats().queue_delivered, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush(&self) -> Result<(), FlushError> {
        let Some(q) = &self.inner.queue else { return Ok(()) };
        match q.drain(self.inner.drain_timeout) {
            0 => Ok(()),
            pending => Err(FlushError { pending, waited: self.inner.drain_timeout }),
        }
    }

    /// Stops the write-behind queue losslessly: refuses new writes, waits for the queue to
    /// drain (at most the drain timeout), stops the delivery thread and hands back every write
    /// it could not deliver, oldest first. Reads keep working; later writes to a write-behind
    /// cache fail with [`WriteErrorKind::Closed`]. Without a queue, returns nothing.
    ///
    /// ```
    /// # use pool_cache::{MemoryL2, TieredCache, WriteMode};
    /// let cache: TieredCache<u64, u64> = TieredCache::builder(10)
    ///     .l2(MemoryL2::new(1 << 20)?).write_mode(WriteMode::Behind).build()?;
    /// cache.insert(1, 1)?;
    /// assert!(cache.close().is_empty()); // delivered
    /// assert!(cache.insert(2, 2).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close(&self) -> Vec<(K, V)> {
        self.inner.close(self.inner.drain_timeout)
    }

    /// A snapshot of both tiers' counters.
    ///
    /// ```
    /// # use pool_cache::TieredCache;
    /// let cache: TieredCache<u64, u64> = TieredCache::builder(10).build()?;
    /// cache.get(&1);
    /// assert_eq!(cache.stats().l1.misses, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn stats(&self) -> TieredStats {
        let depth = self.inner.queue.as_ref().map_or(0, |q| q.depth() as u64);
        self.inner.counters.snapshot(self.inner.l1.stats(), depth)
    }

    /// Publishes the L1's metrics ([`Cache::export_metrics`]) and the tiered counters
    /// (`tiered_l2_hits_total`, `tiered_l2_misses_total`, `tiered_l2_errors_total`,
    /// `tiered_l2_decode_errors_total`, `tiered_l2_read_bytes_total`,
    /// `tiered_l2_written_bytes_total`, `tiered_loads_total`, `tiered_load_errors_total`,
    /// `tiered_queue_*_total`, `tiered_evictions_*_total`) and gauges (`tiered_queue_depth`,
    /// `tiered_l2_latency_p50_ns`/`p99`, `tiered_load_latency_p50_ns`/`p99`) under
    /// `cache=<name>`. Each call adds what happened since the previous one.
    ///
    /// # Errors
    ///
    /// [`RegistryError`] for a bad label value or a name already registered as another kind.
    ///
    /// ```
    /// # use pool_cache::{MemoryL2, TieredCache};
    /// let cache: TieredCache<u64, u64> = TieredCache::builder(10).l2(MemoryL2::new(1 << 20)?).build()?;
    /// cache.get(&1);
    /// let registry = pool_metrics::Registry::new();
    /// cache.export_metrics(&registry, "users")?;
    /// assert_eq!(registry.counter("tiered_l2_misses_total", &[("cache", "users")])?.get(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export_metrics(&self, registry: &Registry, name: &str) -> Result<(), RegistryError> {
        self.inner.l1.export_metrics(registry, name)?;
        let now = self.stats();
        let mut last = self.inner.exported.lock();
        export(registry, name, &now, &last)?;
        *last = now;
        Ok(())
    }

    /// The L2 side's blocking handle, key builder and codec (for the memoizing pool).
    #[cfg_attr(not(feature = "compute"), allow(dead_code))]
    pub(crate) fn l2_parts(&self) -> Option<(&Arc<BlockingL2>, Vec<u8>, &ValueCodec)> {
        self.inner.l2.as_ref().map(|s| (&s.blocking, s.prefix.clone(), &s.codec))
    }

    #[cfg(test)]
    pub(crate) fn waiters(&self, key: &K) -> usize {
        self.inner.flights.waiters(key)
    }

    pub(crate) fn inner(&self) -> &Inner<K, V> {
        &self.inner
    }
}

impl<K, V> Inner<K, V> {
    fn close(&self, timeout: Duration) -> Vec<(K, V)> {
        let Some(q) = &self.queue else { return Vec::new() };
        q.close();
        q.drain(timeout);
        let left = q.stop();
        if let Some(worker) = self.worker.lock().take() {
            let _ = worker.join();
        }
        left
    }
}

impl<K, V> Drop for Inner<K, V> {
    fn drop(&mut self) {
        #[cfg(feature = "redis")]
        if let Some(b) = &self.broadcast {
            b.stop();
        }
        let left = self.close(self.drain_timeout);
        if !left.is_empty() {
            bump(&self.counters.queue_abandoned, left.len() as u64);
            eprintln!(
                "pool-cache: a write-behind TieredCache was dropped with {} writes it could not \
                 deliver to the l2 within {:?}; they are lost (call close() to get them back)",
                left.len(),
                self.drain_timeout
            );
        }
    }
}

/// A duration in clock nanoseconds, saturating.
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Shares the builder's clock with the L1.
struct ClockRef(Arc<dyn Clock>);

impl fmt::Debug for ClockRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClockRef")
    }
}

impl Clock for ClockRef {
    fn now_nanos(&self) -> u64 {
        self.0.now_nanos()
    }
}

/// Catches a panic of the loader future, as `catch_unwind` does for the blocking loader.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let fut = self.0.as_mut();
        match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

/// The blocking read path calls its loader at most once; this is never reached.
fn unreachable_loader<V, E>() -> Result<Loaded<V>, E> {
    Ok(Loaded { value: None, write_l2: false })
}
