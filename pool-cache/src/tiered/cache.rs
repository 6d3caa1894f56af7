//! [`TieredCache`]: the L1 [`Cache`] over an optional [`L2`].

use super::builder::{TieredCacheBuilder, WriteMode};
use super::epoch::Epochs;
use super::error::{FlushError, TieredBuildError, TieredBuildErrorKind};
use super::flight::Flights;
use super::key::TieredKey;
use super::queue::{Pending, Queue};
use super::stats::{Counters, TieredStats, bump, export};
use crate::codec::ValueCodec;
use crate::l1::{Cache, RemovalCause};
use crate::l2::{BlockingL2, L2};
use pool_metrics::{Clock, Registry, RegistryError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::{Arc, Weak};
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
    pub(super) fn into_option(self) -> Option<V> {
        match self {
            Entry::Present(v) | Entry::Fresh(v, _) => Some(v),
            Entry::Absent => None,
        }
    }
}

/// The L2 side: the async handle, the blocking facade, the key prefix and the codec.
pub(super) struct L2Side {
    pub(super) l2: Arc<dyn L2>,
    pub(super) blocking: Arc<BlockingL2>,
    pub(super) prefix: Vec<u8>,
    pub(super) codec: ValueCodec,
}

impl L2Side {
    pub(super) fn key<K: TieredKey>(&self, key: &K) -> Vec<u8> {
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
    /// The L1 again, one pointer closer than `inner.l1`: the hit path skips a dependent load.
    pub(super) l1: Cache<K, Entry<V>>,
    pub(super) inner: Arc<Inner<K, V>>,
}

impl<K, V> Clone for TieredCache<K, V> {
    fn clone(&self) -> Self {
        Self { l1: self.l1.clone(), inner: self.inner.clone() }
    }
}

pub(crate) struct Inner<K, V> {
    pub(crate) l1: Cache<K, Entry<V>>,
    pub(super) l2: Option<L2Side>,
    pub(super) queue: Option<Arc<Queue<K, V>>>,
    pub(super) worker: parking_lot::Mutex<Option<JoinHandle<()>>>,
    pub(super) flights: Flights<K, Entry<V>>,
    /// Bumped by every caller's write and every invalidation (not by a load's own store): a
    /// load of that key that began before keeps its value to itself instead of storing it
    /// over a newer state.
    pub(super) epochs: Epochs,
    pub(crate) counters: Arc<Counters>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) ttl: Option<Duration>,
    pub(super) negative_ttl: Option<Duration>,
    pub(super) write_mode: WriteMode,
    pub(super) write_timeout: Duration,
    pub(super) drain_timeout: Duration,
    pub(super) load_wait: Duration,
    /// The stale-while-revalidate window, and the keys being refreshed in the background.
    pub(super) stale_window: Option<Duration>,
    pub(super) refreshing: parking_lot::Mutex<hashbrown::HashSet<K>>,
    pub(super) exported: parking_lot::Mutex<TieredStats>,
    #[cfg(feature = "redis")]
    pub(super) broadcast: Option<super::broadcast::Broadcast>,
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
        let mut l1 = Cache::builder(b.capacity).clock(b.clock.clone());
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
            l1: l1.clone(),
            inner: Arc::new(Inner {
                l1,
                l2,
                queue,
                worker: parking_lot::Mutex::new(worker),
                flights: Flights::default(),
                epochs: Epochs::default(),
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
    /// cache fail with [`WriteErrorKind::Closed`](super::WriteErrorKind::Closed). Without a queue, returns nothing.
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

    /// The L2 side's blocking handle, key prefix and codec (for the memoizing pool).
    #[cfg_attr(not(feature = "compute"), allow(dead_code))]
    pub(crate) fn l2_parts(&self) -> Option<(&BlockingL2, &[u8], &ValueCodec)> {
        self.inner.l2.as_ref().map(|s| (&*s.blocking, s.prefix.as_slice(), &s.codec))
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
pub(super) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
