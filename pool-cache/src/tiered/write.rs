//! The write path of [`TieredCache`]: writes to both tiers as the write mode says, one TTL,
//! invalidation across the tiers and the queue, and the broadcast to other processes.

use super::builder::WriteMode;
use super::cache::{Entry, TieredCache, nanos};
use super::error::{WriteError, WriteErrorKind};
use super::key::TieredKey;
use super::queue::{Pending, PushError};
use super::stats::bump;
use crate::l2::L2Error;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Who writes: a caller (whose write makes a load of the same key in flight stale) or a
/// load storing its own value (which makes nothing stale: only one load of a key runs at a
/// time, and a load that bumped the epochs would discard concurrent loads' values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Writer {
    /// `insert` and friends.
    Caller,
    /// A load storing what it loaded.
    Load,
}

impl<K, V> TieredCache<K, V>
where
    K: TieredKey,
    V: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    /// Whether writes and invalidations are published to other processes.
    pub(super) fn broadcasting(&self) -> bool {
        #[cfg(feature = "redis")]
        return self.inner.broadcast.is_some();
        #[cfg(not(feature = "redis"))]
        false
    }

    /// Tells other processes' L1s to drop `key` (or every key under `prefix`, with `prefix`).
    #[cfg_attr(not(feature = "redis"), allow(unused_variables))]
    pub(super) fn announce(&self, key: Option<&K>, prefix: Option<&[u8]>) {
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

    pub(super) fn l1_put(&self, key: K, entry: Entry<V>, ttl: Option<Duration>) {
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

    /// A caller's write: a load of `key` in flight keeps its older value to itself.
    pub(super) fn write(
        &self,
        key: K,
        value: V,
        ttl: Option<Duration>,
    ) -> Result<(), WriteError<K, V>> {
        self.write_as(key, value, ttl, Writer::Caller)
    }

    pub(super) fn write_as(
        &self,
        key: K,
        value: V,
        ttl: Option<Duration>,
        writer: Writer,
    ) -> Result<(), WriteError<K, V>> {
        let announced = self.broadcasting().then(|| key.clone());
        let written = self.write_tiers(key, value, ttl, writer);
        if let Some(k) = announced
            && written.is_ok()
        {
            self.announce(Some(&k), None);
        }
        written
    }

    fn write_tiers(
        &self,
        key: K,
        value: V,
        ttl: Option<Duration>,
        writer: Writer,
    ) -> Result<(), WriteError<K, V>> {
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
            if writer == Writer::Caller {
                inner.epochs.bump_key(&key);
            }
            self.l1_put(key, Entry::Present(value), ttl);
            return Ok(());
        }
        if writer == Writer::Caller {
            inner.epochs.bump_key(&key);
        }
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
        inner.epochs.bump_key(key);
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
        inner.epochs.bump_all();
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
        inner.epochs.bump_all();
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
}
