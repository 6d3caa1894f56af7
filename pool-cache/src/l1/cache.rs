//! [`Cache`]: the sharded, concurrent L1 cache.

use super::clock::nanos;
use super::expiry::Expiry;
use super::loader::Loads;
use super::policy::{Policy, PolicyState};
use super::shard::{Deadlines, Removed, Shard, ShardData};
use super::stats::{CacheStats, RemovalCause, Stripe};
use super::timer_wheel::NEVER;
use crate::builder::{CacheBuilder, Layout, Listener, Weigher};
use crate::error::{InsertError, InsertErrorKind};
use crate::lock::Exclusive;
use crate::sync::{Arc, AtomicBool, AtomicU64, Ordering};
use crossbeam_utils::CachePadded;
use foldhash::fast::{FixedState, RandomState};
use pool_metrics::Clock;
use std::borrow::Borrow;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::time::Duration;

/// A concurrent in-memory cache with a bounded size, chosen eviction policy and optional expiry.
///
/// Cloning is cheap (an `Arc`): clones share the same entries. Keys are spread over shards by a
/// hash seeded per cache; each shard has its own read-write lock, policy and capacity share. A
/// hit takes only the shard's read lock and writes nothing shared (under [`Policy::Lru`] and
/// [`Policy::Lfu`] it goes to the thread's own buffer, which the shard's next write applies);
/// inserts and evictions take its write lock. No background thread: expiry and eviction
/// happen on writes (and [`Cache::run_pending_tasks`]).
///
/// ```
/// use pool_cache::{Cache, Policy};
///
/// let cache: Cache<u64, u64> = Cache::builder(1000).policy(Policy::TinyLfu).build()?;
/// cache.insert(1, 10);
/// assert_eq!(cache.get(&1), Some(10));
/// let shared = cache.clone();
/// std::thread::spawn(move || shared.insert(2, 20)).join().unwrap();
/// cache.run_pending_tasks();
/// assert_eq!(cache.len(), 2);
/// # Ok::<(), pool_cache::BuildError>(())
/// ```
pub struct Cache<K, V> {
    inner: Arc<Inner<K, V>>,
}

pub(crate) struct Inner<K, V> {
    shards: Box<[CachePadded<Shard<K, V, FixedState>>]>,
    shard_mask: u64,
    hasher: FixedState,
    config: CacheConfig,
    weigher: Option<Weigher<K, V>>,
    listener: Option<Listener<K, V>>,
    expiry: Option<Arc<dyn Expiry<K, V>>>,
    clock: Arc<dyn Clock>,
    ttl: Option<u64>,
    tti: Option<u64>,
    /// The capacity as last set (it can change at run time).
    capacity: AtomicU64,
    /// Whether any shard tracks deadlines: lookups read the clock only then.
    expires: AtomicBool,
    pub(crate) loads: Loads<K, V>,
    exported: super::export::Exported,
}

impl<K, V> Clone for Cache<K, V> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

impl<K, V> fmt::Debug for Cache<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache").field("config", &self.config()).finish_non_exhaustive()
    }
}

/// The effective configuration of a cache, read back with [`Cache::config`].
///
/// ```
/// use pool_cache::{Cache, Policy};
///
/// let c: Cache<u64, u64> = Cache::builder(100).shards(2).build()?;
/// let p = c.config();
/// assert_eq!((p.capacity(), p.shards(), p.policy()), (100, 2, Policy::TinyLfu));
/// assert!(!p.is_weighted());
/// # Ok::<(), pool_cache::BuildError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    capacity: u64,
    policy: Policy,
    shards: usize,
    cores: usize,
    weighted: bool,
    ttl: Option<Duration>,
    tti: Option<Duration>,
}

impl CacheConfig {
    /// Total capacity: entries, or weight with a weigher.
    ///
    /// ```
    /// # let c: pool_cache::Cache<u64, u64> = pool_cache::Cache::builder(7).build()?;
    /// assert_eq!(c.config().capacity(), 7);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    #[must_use]
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// The eviction policy.
    ///
    /// ```
    /// # let c: pool_cache::Cache<u64, u64> = pool_cache::Cache::builder(7).build()?;
    /// assert_eq!(c.config().policy(), pool_cache::Policy::TinyLfu);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    #[must_use]
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// The number of shards.
    ///
    /// ```
    /// # let c: pool_cache::Cache<u64, u64> = pool_cache::Cache::builder(7).shards(1).build()?;
    /// assert_eq!(c.config().shards(), 1);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    #[must_use]
    pub fn shards(&self) -> usize {
        self.shards
    }

    /// The core count the shards and their lock stripes were sized for (see
    /// [`CacheBuilder::cores`]).
    ///
    /// ```
    /// # let c: pool_cache::Cache<u64, u64> = pool_cache::Cache::builder(7).cores(3).build()?;
    /// assert_eq!(c.config().cores(), 3);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    #[must_use]
    pub fn cores(&self) -> usize {
        self.cores
    }

    /// Whether the capacity is a weight (a weigher was set).
    ///
    /// ```
    /// # let c: pool_cache::Cache<u64, u64> = pool_cache::Cache::builder(7).weigher(|_, _| 2).build()?;
    /// assert!(c.config().is_weighted());
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    #[must_use]
    pub fn is_weighted(&self) -> bool {
        self.weighted
    }

    /// The cache-wide time-to-live.
    ///
    /// ```
    /// # let c: pool_cache::Cache<u64, u64> = pool_cache::Cache::builder(7).build()?;
    /// assert_eq!(c.config().time_to_live(), None);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    #[must_use]
    pub fn time_to_live(&self) -> Option<Duration> {
        self.ttl
    }

    /// The cache-wide time-to-idle.
    ///
    /// ```
    /// # let c: pool_cache::Cache<u64, u64> = pool_cache::Cache::builder(7).build()?;
    /// assert_eq!(c.config().time_to_idle(), None);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    #[must_use]
    pub fn time_to_idle(&self) -> Option<Duration> {
        self.tti
    }
}

/// Capacity `total` split over `shards`: the first `total % shards` get one more.
fn shard_capacity(total: u64, shards: usize, i: usize) -> u64 {
    let s = shards as u64;
    total / s + u64::from((i as u64) < total % s)
}

impl<K, V> Cache<K, V> {
    /// Starts a builder for a cache holding `capacity` entries (or total weight, with
    /// [`CacheBuilder::weigher`]).
    ///
    /// ```
    /// use pool_cache::Cache;
    ///
    /// let cache: Cache<String, String> = Cache::builder(100).build()?;
    /// # let _ = cache;
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn builder(capacity: u64) -> CacheBuilder<K, V> {
        CacheBuilder::new(capacity)
    }

    /// The effective configuration.
    ///
    /// ```
    /// # let c: pool_cache::Cache<u64, u64> = pool_cache::Cache::builder(7).build()?;
    /// assert_eq!(c.config().capacity(), 7);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    #[must_use]
    pub fn config(&self) -> CacheConfig {
        CacheConfig { capacity: self.inner.capacity.load(Ordering::Relaxed), ..self.inner.config }
    }

    pub(crate) fn inner_loads(&self) -> &Loads<K, V> {
        &self.inner.loads
    }

    pub(crate) fn exported(&self) -> &super::export::Exported {
        &self.inner.exported
    }
}

/// Counts a lookup on the calling thread's stripe of its shard.
#[inline]
fn count_lookup<V>((stripe, exclusive): (&Stripe, Exclusive), found: &Option<V>) {
    match found {
        Some(_) => stripe.hit(exclusive),
        None => stripe.miss(exclusive),
    }
}

impl<K: Hash + Eq, V> Cache<K, V> {
    pub(crate) fn from_builder(
        b: CacheBuilder<K, V>,
        layout: Layout,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let Layout { cores, shards, stripes } = layout;
        let hasher = match b.seed {
            Some(seed) => FixedState::with_seed(seed),
            // A fresh random seed per cache (see `CacheBuilder::seed`).
            None => FixedState::with_seed(RandomState::default().hash_one(0_u64)),
        };
        let seed = hasher.hash_one(0x5EED_u64);
        let expires = b.ttl.is_some() || b.tti.is_some() || b.expiry.is_some();
        let now = clock.now_nanos();
        let shard_vec = (0..shards)
            .map(|i| {
                let cap = shard_capacity(b.capacity, shards, i);
                let policy = PolicyState::new(
                    b.policy,
                    cap,
                    seed.wrapping_add(i as u64),
                    b.weigher.is_some(),
                );
                CachePadded::new(Shard::new(
                    ShardData::new(
                        policy,
                        cap,
                        b.weigher.is_some(),
                        hasher.clone(),
                        expires.then_some(now),
                    ),
                    stripes,
                ))
            })
            .collect();
        let config = CacheConfig {
            capacity: b.capacity,
            policy: b.policy,
            shards,
            cores,
            weighted: b.weigher.is_some(),
            ttl: b.ttl,
            tti: b.tti,
        };
        Self {
            inner: Arc::new(Inner {
                shards: shard_vec,
                shard_mask: shards as u64 - 1,
                hasher,
                config,
                weigher: b.weigher,
                listener: b.listener,
                expiry: b.expiry,
                clock,
                ttl: b.ttl.map(nanos),
                tti: b.tti.map(nanos),
                capacity: AtomicU64::new(b.capacity),
                expires: AtomicBool::new(expires),
                loads: Loads::default(),
                exported: super::export::Exported::default(),
            }),
        }
    }

    #[inline]
    pub(crate) fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        self.inner.hasher.hash_one(key)
    }

    /// Bits 40.. of the hash pick the shard: hashbrown uses the low bits for the bucket and
    /// the top seven for its tag, so the shard choice stays independent of both.
    #[inline]
    fn shard(&self, hash: u64) -> &Shard<K, V, FixedState> {
        &self.inner.shards[((hash >> 40) & self.inner.shard_mask) as usize]
    }

    #[inline]
    fn now(&self) -> u64 {
        if self.inner.expires.load(Ordering::Relaxed) { self.inner.clock.now_nanos() } else { 0 }
    }

    fn notify(&self, removed: Removed<K, V>) {
        if let Some(l) = &self.inner.listener {
            for (k, v, cause) in removed.into_iter() {
                l(k, v, cause);
            }
        }
    }

    /// The value for `key`, cloned, if present and not expired. Counts a hit or a miss.
    ///
    /// ```
    /// # let cache: pool_cache::Cache<String, u64> = pool_cache::Cache::builder(10).build()?;
    /// cache.insert("a".to_string(), 1);
    /// assert_eq!(cache.get("a"), Some(1));
    /// assert_eq!(cache.get("b"), None);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    #[inline]
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        let hash = self.hash(key);
        let shard = self.shard(hash);
        let now = self.now();
        let tti = self.inner.tti;
        let data = shard.read();
        if data.shared_hits() {
            let found = data.get_shared(hash, key, now, tti);
            count_lookup(data.local(), &found);
            return found;
        }
        // LRU and LFU: a hit goes to this thread's buffer, applied by the next write.
        let (stripe, exclusive) = data.local();
        if exclusive == Exclusive::Yes
            && let Some(found) = data.get_buffered(hash, key, now, tti, &stripe.reads)
        {
            count_lookup((stripe, exclusive), &found);
            return found;
        }
        // A full buffer, or a thread sharing its stripe: relink under the write lock.
        drop(data);
        let mut data = shard.write();
        let found = data.get_exclusive(hash, key, now, tti);
        count_lookup(data.local(), &found);
        found
    }

    /// Whether `key` is present and not expired; not counted as an access.
    ///
    /// ```
    /// # let cache: pool_cache::Cache<u64, u64> = pool_cache::Cache::builder(10).build()?;
    /// cache.insert(1, 1);
    /// assert!(cache.contains(&1));
    /// assert!(!cache.contains(&2));
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn contains<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        let now = self.now();
        self.shard(hash).read().contains(hash, key, now)
    }

    /// The value for `key` without counting an access or touching the policy.
    ///
    /// ```
    /// # let cache: pool_cache::Cache<u64, u64> = pool_cache::Cache::builder(10).build()?;
    /// cache.insert(1, 5);
    /// assert_eq!(cache.peek(&1), Some(5));
    /// assert_eq!(cache.stats().hits, 0);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn peek<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        let hash = self.hash(key);
        let now = self.now();
        self.shard(hash).read().peek(hash, key, now).cloned()
    }

    fn deadlines(&self, key: &K, value: &V, ttl: Option<u64>, now: u64) -> Deadlines {
        let per_entry = ttl.or_else(|| {
            self.inner.expiry.as_ref().and_then(|e| e.expire_after_create(key, value).map(nanos))
        });
        let hard = per_entry.or(self.inner.ttl).map_or(NEVER, |t| now.saturating_add(t));
        let effective = self.inner.tti.map_or(hard, |t| now.saturating_add(t).min(hard));
        Deadlines { hard, effective }
    }

    fn insert_inner(&self, key: K, value: V, ttl: Option<u64>) -> Result<(), InsertError<K, V>> {
        let weight = self.inner.weigher.as_ref().map_or(1, |w| w(&key, &value));
        let hash = self.hash(&key);
        let shard = self.shard(hash);
        if ttl.is_some() && !self.inner.expires.load(Ordering::Relaxed) {
            self.inner.expires.store(true, Ordering::Relaxed);
        }
        let now = self.now();
        let deadlines = if self.inner.expires.load(Ordering::Relaxed) {
            self.deadlines(&key, &value, ttl, now)
        } else {
            Deadlines::NONE
        };
        let mut removed = Removed::default();
        {
            let mut data = shard.write();
            if !data.fits(weight) {
                data.count_too_heavy();
                // The caller meant to replace the old value: leaving it would serve stale data.
                if let Some((k, v)) = data.remove_replaced(hash, &key) {
                    removed.push(k, v, RemovalCause::Replaced);
                }
                let capacity = data.capacity();
                drop(data);
                self.notify(removed);
                return Err(InsertError::new(
                    key,
                    value,
                    InsertErrorKind::TooHeavy { weight, capacity },
                ));
            }
            if deadlines.hard != NEVER || deadlines.effective != NEVER {
                data.enable_expiry(now);
            }
            if data.hits_due() {
                data.report_hits(shard.hits());
            }
            data.insert(hash, key, value, (weight, deadlines), now, &mut removed);
        }
        self.notify(removed);
        Ok(())
    }

    /// Inserts or replaces the value for `key`, evicting as needed. An entry that alone
    /// outweighs its shard's capacity is not stored: it is counted in
    /// [`CacheStats::too_heavy`] and handed to the removal listener with
    /// [`RemovalCause::Rejected`]; use [`Cache::try_insert`] to get it back instead.
    ///
    /// ```
    /// # let cache: pool_cache::Cache<u64, u64> = pool_cache::Cache::builder(10).build()?;
    /// cache.insert(1, 1);
    /// cache.insert(1, 2);
    /// assert_eq!(cache.get(&1), Some(2));
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn insert(&self, key: K, value: V) {
        if let Err(e) = self.insert_inner(key, value, None) {
            let (k, v) = e.into_inner();
            if let Some(l) = &self.inner.listener {
                l(k, v, RemovalCause::Rejected);
            }
        }
    }

    /// Inserts or replaces, handing the entry back if it can never fit.
    ///
    /// # Errors
    ///
    /// [`InsertError`] with [`InsertErrorKind::TooHeavy`] when the entry's weight exceeds the
    /// capacity of its shard.
    ///
    /// ```
    /// use pool_cache::Cache;
    ///
    /// let cache: Cache<u64, u64> = Cache::builder(10).weigher(|_, v| *v).build()?;
    /// assert!(cache.try_insert(1, 3).is_ok());
    /// assert!(cache.try_insert(2, 300).is_err());
    /// assert_eq!(cache.stats().too_heavy, 1);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn try_insert(&self, key: K, value: V) -> Result<(), InsertError<K, V>> {
        self.insert_inner(key, value, None)
    }

    /// Inserts or replaces with this entry's own time to live (overriding the cache-wide one
    /// and any [`Expiry`]). A zero `ttl` stores nothing: the entry is reported to the listener
    /// as [`RemovalCause::Expired`] at once. `Duration::MAX` means never.
    ///
    /// ```
    /// use pool_cache::{Cache, ManualClock};
    /// use std::time::Duration;
    ///
    /// let clock = ManualClock::new();
    /// let cache: Cache<u64, u64> = Cache::builder(10).clock(clock.clone()).build()?;
    /// cache.insert_with_ttl(1, 1, Duration::from_secs(1));
    /// cache.insert(2, 2);
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(cache.get(&1), None);
    /// assert_eq!(cache.get(&2), Some(2));
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn insert_with_ttl(&self, key: K, value: V, ttl: Duration) {
        if ttl.is_zero() {
            // Expired on arrival; a stale value under the same key must not survive either.
            let hash = self.hash(&key);
            let now = self.now();
            let old = self.shard(hash).write().remove(hash, &key, now);
            let mut removed = Removed::default();
            if let Some((k, v)) = old {
                removed.push(k, v, RemovalCause::Replaced);
            }
            removed.push(key, value, RemovalCause::Expired);
            self.notify(removed);
            return;
        }
        if let Err(e) = self.insert_inner(key, value, Some(nanos(ttl))) {
            let (k, v) = e.into_inner();
            if let Some(l) = &self.inner.listener {
                l(k, v, RemovalCause::Rejected);
            }
        }
    }

    /// Removes `key`, returning its value if it was present and not expired.
    ///
    /// ```
    /// # let cache: pool_cache::Cache<u64, u64> = pool_cache::Cache::builder(10).build()?;
    /// cache.insert(1, 1);
    /// assert_eq!(cache.remove(&1), Some(1));
    /// assert_eq!(cache.remove(&1), None);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        let hash = self.hash(key);
        let now = self.now();
        let (k, v) = self.shard(hash).write().remove(hash, key, now)?;
        if let Some(l) = &self.inner.listener {
            l(k, v.clone(), RemovalCause::Explicit);
        }
        Some(v)
    }

    /// Runs `f` on the current value of `key` (or `None`) under the shard's write lock and
    /// stores its answer: `Some(v)` inserts or replaces, `None` removes. Returns the new value.
    /// Atomic with respect to every other operation on the key.
    ///
    /// **`f` runs with the shard's write lock held**: it must not use this cache (a call back
    /// into it deadlocks), and every reader and writer of the shard waits while it runs.
    ///
    /// ```
    /// # let cache: pool_cache::Cache<&str, u64> = pool_cache::Cache::builder(10).build()?;
    /// let bump = |c: &pool_cache::Cache<&str, u64>| c.compute("hits", |v| Some(v.copied().unwrap_or(0) + 1));
    /// assert_eq!(bump(&cache), Some(1));
    /// assert_eq!(bump(&cache), Some(2));
    /// assert_eq!(cache.compute("hits", |_| None), None);
    /// assert!(!cache.contains("hits"));
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn compute(&self, key: K, f: impl FnOnce(Option<&V>) -> Option<V>) -> Option<V>
    where
        V: Clone,
    {
        let hash = self.hash(&key);
        let shard = self.shard(hash);
        let now = self.now();
        let mut removed = Removed::default();
        let mut rejected = None;
        let result = {
            let mut data = shard.write();
            match f(data.peek(hash, &key, now)) {
                None => {
                    if let Some((k, v)) = data.remove(hash, &key, now) {
                        removed.push(k, v, RemovalCause::Explicit);
                    }
                    None
                }
                Some(v) => {
                    let weight = self.inner.weigher.as_ref().map_or(1, |w| w(&key, &v));
                    if data.fits(weight) {
                        let deadlines = if self.inner.expires.load(Ordering::Relaxed) {
                            self.deadlines(&key, &v, None, now)
                        } else {
                            Deadlines::NONE
                        };
                        if deadlines.hard != NEVER || deadlines.effective != NEVER {
                            data.enable_expiry(now);
                        }
                        data.insert(hash, key, v.clone(), (weight, deadlines), now, &mut removed);
                        Some(v)
                    } else {
                        data.count_too_heavy();
                        if let Some((k, old)) = data.remove_replaced(hash, &key) {
                            removed.push(k, old, RemovalCause::Replaced);
                        }
                        rejected = Some((key, v));
                        None
                    }
                }
            }
        };
        if let Some((k, v)) = rejected {
            removed.push(k, v, RemovalCause::Rejected);
        }
        self.notify(removed);
        result
    }

    /// Keeps only the entries for which `keep` returns true; the others are removed with
    /// [`RemovalCause::Explicit`]. Takes each shard's write lock in turn: O(n).
    ///
    /// **`keep` runs with a shard's write lock held**, as [`Cache::compute`]'s `f` does: it
    /// must not use this cache (a `get`, `insert` or anything else on it from inside `keep`
    /// deadlocks), and while it runs every reader and writer of that shard waits, so keep it
    /// short. The removal listener runs after the lock is released.
    ///
    /// ```
    /// # let cache: pool_cache::Cache<u64, u64> = pool_cache::Cache::builder(100).build()?;
    /// for i in 0..10 { cache.insert(i, i); }
    /// cache.retain(|k, _| k % 2 == 0);
    /// assert_eq!(cache.len(), 5);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn retain(&self, mut keep: impl FnMut(&K, &V) -> bool) {
        for shard in self.inner.shards.iter() {
            let mut removed = Removed::default();
            shard.write().retain(&mut keep, RemovalCause::Explicit, &mut removed);
            self.notify(removed);
        }
    }

    /// Removes every entry for which `pred` is true (the seeds' pattern invalidation).
    ///
    /// **`pred` runs with a shard's write lock held** (see [`Cache::retain`]): it must not
    /// use this cache.
    ///
    /// ```
    /// # let cache: pool_cache::Cache<String, u64> = pool_cache::Cache::builder(100).build()?;
    /// cache.insert("user:1".into(), 1);
    /// cache.insert("order:1".into(), 2);
    /// cache.invalidate_if(|k, _| k.contains(":1") && k.starts_with("user"));
    /// assert!(!cache.contains("user:1"));
    /// assert!(cache.contains("order:1"));
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn invalidate_if(&self, mut pred: impl FnMut(&K, &V) -> bool) {
        self.retain(|k, v| !pred(k, v));
    }

    /// Removes every entry whose key starts with `prefix`.
    ///
    /// ```
    /// # let cache: pool_cache::Cache<String, u64> = pool_cache::Cache::builder(100).build()?;
    /// cache.insert("user:1".into(), 1);
    /// cache.insert("user:2".into(), 2);
    /// cache.insert("order:1".into(), 3);
    /// cache.invalidate_prefix("user:");
    /// assert_eq!(cache.len(), 1);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn invalidate_prefix(&self, prefix: &str)
    where
        K: AsRef<str>,
    {
        self.retain(|k, _| !k.as_ref().starts_with(prefix));
    }

    /// Removes every entry ([`RemovalCause::Explicit`]).
    ///
    /// ```
    /// # let cache: pool_cache::Cache<u64, u64> = pool_cache::Cache::builder(100).build()?;
    /// cache.insert(1, 1);
    /// cache.invalidate_all();
    /// assert!(cache.is_empty());
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn invalidate_all(&self) {
        for shard in self.inner.shards.iter() {
            let mut removed = Removed::default();
            shard.write().clear(&mut removed);
            self.notify(removed);
        }
    }

    /// Reclaims expired entries and settles the policies' bookkeeping, so that [`Cache::len`]
    /// counts only live entries. Never needed for correctness: lookups never return an expired
    /// entry, and writes do this work a little at a time.
    ///
    /// ```
    /// use pool_cache::{Cache, ManualClock};
    /// use std::time::Duration;
    ///
    /// let clock = ManualClock::new();
    /// let cache: Cache<u64, u64> =
    ///     Cache::builder(10).time_to_live(Duration::from_secs(1)).clock(clock.clone()).build()?;
    /// cache.insert(1, 1);
    /// clock.advance(Duration::from_secs(2));
    /// cache.run_pending_tasks();
    /// assert_eq!(cache.len(), 0);
    /// assert_eq!(cache.stats().expirations, 1);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn run_pending_tasks(&self) {
        let now = self.now();
        for shard in self.inner.shards.iter() {
            let mut removed = Removed::default();
            {
                let mut data = shard.write();
                data.report_hits(shard.hits());
                data.maintain(now, &mut removed);
            }
            self.notify(removed);
        }
    }

    /// Changes the capacity at run time, evicting at once if it shrank.
    ///
    /// # Panics
    ///
    /// If `capacity` is smaller than the shard count (each shard needs room for one entry).
    ///
    /// ```
    /// # let cache: pool_cache::Cache<u64, u64> = pool_cache::Cache::builder(100).shards(1).build()?;
    /// for i in 0..100 { cache.insert(i, i); }
    /// cache.set_capacity(10);
    /// assert_eq!(cache.len(), 10);
    /// assert_eq!(cache.config().capacity(), 10);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn set_capacity(&self, capacity: u64) {
        let shards = self.inner.shards.len();
        assert!(
            capacity >= shards as u64,
            "capacity must be >= the shard count {shards}, got {capacity}"
        );
        for (i, shard) in self.inner.shards.iter().enumerate() {
            let mut removed = Removed::default();
            shard.write().set_capacity(shard_capacity(capacity, shards, i), &mut removed);
            self.notify(removed);
        }
        self.inner.capacity.store(capacity, Ordering::Relaxed);
    }

    /// The number of entries, exact once [`Cache::run_pending_tasks`] has reclaimed expired
    /// ones (before that, expired entries not yet reclaimed are counted).
    ///
    /// ```
    /// # let cache: pool_cache::Cache<u64, u64> = pool_cache::Cache::builder(100).build()?;
    /// cache.insert(1, 1);
    /// assert_eq!(cache.len(), 1);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.inner.shards.iter().map(|s| s.read().len()).sum()
    }

    /// Whether [`Cache::len`] is zero.
    ///
    /// ```
    /// # let cache: pool_cache::Cache<u64, u64> = pool_cache::Cache::builder(100).build()?;
    /// assert!(cache.is_empty());
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The total weight of the entries (equal to [`Cache::len`] without a weigher).
    ///
    /// ```
    /// # let cache: pool_cache::Cache<u64, u64> = pool_cache::Cache::builder(100).weigher(|_, v| *v).build()?;
    /// cache.insert(1, 30);
    /// assert_eq!(cache.weighted_size(), 30);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    #[must_use]
    pub fn weighted_size(&self) -> u64 {
        self.inner.shards.iter().map(|s| s.read().weight()).sum()
    }

    /// A snapshot of the counters (summed over shards and stripes).
    ///
    /// ```
    /// # let cache: pool_cache::Cache<u64, u64> = pool_cache::Cache::builder(100).build()?;
    /// cache.get(&1);
    /// assert_eq!(cache.stats().misses, 1);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    #[must_use]
    pub fn stats(&self) -> CacheStats {
        let mut total = CacheStats::default();
        for shard in self.inner.shards.iter() {
            total.add(shard.read().counters());
            total.hits += shard.hits();
            total.misses += shard.misses();
        }
        total
    }

    /// The current TinyLFU window share summed over shards (`None` for other policies):
    /// shows where hill climbing has moved the window.
    ///
    /// ```
    /// # let cache: pool_cache::Cache<u64, u64> = pool_cache::Cache::builder(1000).shards(1).build()?;
    /// assert_eq!(cache.window_capacity(), Some(10));
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    #[must_use]
    pub fn window_capacity(&self) -> Option<u64> {
        self.inner.shards.iter().map(|s| s.read().window_capacity()).sum()
    }

    /// Clones of the live entries, one shard at a time (each shard is a consistent snapshot;
    /// the whole is not). The order is unspecified.
    ///
    /// ```
    /// # let cache: pool_cache::Cache<u64, u64> = pool_cache::Cache::builder(100).build()?;
    /// cache.insert(1, 10);
    /// cache.insert(2, 20);
    /// let mut all: Vec<_> = cache.iter().collect();
    /// all.sort();
    /// assert_eq!(all, vec![(1, 10), (2, 20)]);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (K, V)> + '_
    where
        K: Clone,
        V: Clone,
    {
        let now = self.now();
        self.inner.shards.iter().flat_map(move |s| {
            s.read().entries(now).map(|(k, v)| (k.clone(), v.clone())).collect::<Vec<_>>()
        })
    }

    #[cfg(test)]
    pub(crate) fn eviction_order(&self) -> Vec<K>
    where
        K: Clone,
    {
        // Through the write lock: it applies the buffered hits first.
        self.inner.shards[0].write().eviction_order_keys().into_iter().cloned().collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lru_order_follows_accesses() {
        let c: Cache<u64, u64> = Cache::builder(4).shards(1).policy(Policy::Lru).build().unwrap();
        for k in 0..4 {
            c.insert(k, k);
        }
        c.get(&0);
        c.insert(2, 20);
        assert_eq!(c.eviction_order(), vec![1, 3, 0, 2]);
        c.remove(&3);
        assert_eq!(c.eviction_order(), vec![1, 0, 2]);
    }

    #[test]
    fn lfu_order_is_by_count_then_recency() {
        let c: Cache<u64, u64> = Cache::builder(4).shards(1).policy(Policy::Lfu).build().unwrap();
        for k in 0..4 {
            c.insert(k, k);
        }
        c.get(&0);
        c.get(&0);
        c.get(&2);
        assert_eq!(c.eviction_order(), vec![1, 3, 2, 0]);
    }

    #[test]
    fn tinylfu_tracks_every_entry_once() {
        let c: Cache<u64, u64> = Cache::builder(50).shards(1).build().unwrap();
        for k in 0..500 {
            c.insert(k % 70, k);
            c.get(&(k % 7));
        }
        let mut order = c.eviction_order();
        order.sort_unstable();
        order.dedup();
        assert_eq!(order.len(), c.len());
        assert!(c.len() <= 50);
    }

    #[test]
    fn no_load_left_in_flight() {
        let c: Cache<u64, u64> = Cache::builder(10).build().unwrap();
        let _ = c.try_get_or_insert_with(1, || Err::<u64, ()>(()));
        c.get_or_insert_with(2, || 2);
        assert_eq!(c.inner_loads().in_flight(), 0);
    }
}
