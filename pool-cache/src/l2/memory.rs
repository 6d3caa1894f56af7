//! [`MemoryL2`]: an in-process L2 bounded by bytes, on the L1 [`Cache`] with a weigher.

use super::api::{L2, L2Entry, L2Future, Put};
use super::error::{L2BuildError, L2BuildErrorKind, L2Error};
use super::input::{self, DEFAULT_MAX_VALUE_SIZE};
use super::stats::{Counters, L2Stats};
use crate::{Cache, Expiry, Policy, RemovalCause};
use pool_metrics::{Clock, MonotonicClock};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Bytes charged per record on top of its key and value: the record's `Arc`, its boxes and
/// the cache's slot, so a bound in bytes also bounds many tiny records.
pub const MEMORY_RECORD_OVERHEAD: u64 = 96;

const NEVER: u64 = u64::MAX;

type Key = Box<[u8]>;

struct Record {
    value: Box<[u8]>,
    /// Clock nanoseconds at which the record expires; [`NEVER`] for no expiry.
    deadline: u64,
}

/// Reads each record's own deadline, so a record re-inserted by `compute` keeps it.
struct RecordExpiry {
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for RecordExpiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecordExpiry")
    }
}

impl Expiry<Key, Arc<Record>> for RecordExpiry {
    fn expire_after_create(&self, _key: &Key, record: &Arc<Record>) -> Option<Duration> {
        (record.deadline != NEVER).then(|| {
            Duration::from_nanos(record.deadline.saturating_sub(self.clock.now_nanos()).max(1))
        })
    }
}

/// An L2 in this process's memory: bounded by bytes (key + value +
/// [`MEMORY_RECORD_OVERHEAD`] per record, least recently used evicted first), honouring each
/// record's TTL through an injectable [`Clock`].
///
/// Useful as the L2 of tests and single-process services that want the L2 interface without
/// a server or a file. Its core is the L1 [`Cache`] with a weigher and [`Policy::Lru`].
///
/// ```
/// use pool_cache::{L2, ManualClock, MemoryL2};
/// use std::time::Duration;
///
/// # futures::executor::block_on(async {
/// let clock = ManualClock::new();
/// let l2 = MemoryL2::builder(1 << 20).clock(clock.clone()).build()?;
/// l2.set(b"k", b"v", Duration::from_secs(10)).await?;
/// clock.advance(Duration::from_secs(4));
/// assert_eq!(l2.get(b"k").await?.and_then(|e| e.ttl), Some(Duration::from_secs(6)));
/// clock.advance(Duration::from_secs(6));
/// assert_eq!(l2.get(b"k").await?, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub struct MemoryL2 {
    cache: Cache<Key, Arc<Record>>,
    clock: Arc<dyn Clock>,
    max_value: usize,
    shard_capacity: u64,
    counters: Arc<Counters>,
}

impl fmt::Debug for MemoryL2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryL2")
            .field("max_bytes", &self.cache.config().capacity())
            .field("used_bytes", &self.cache.weighted_size())
            .field("max_value_size", &self.max_value)
            .finish_non_exhaustive()
    }
}

/// Builds a [`MemoryL2`]; start with [`MemoryL2::builder`].
///
/// ```
/// use pool_cache::MemoryL2;
///
/// let l2 = MemoryL2::builder(64 << 20).max_value_size(1 << 20).build()?;
/// assert_eq!(l2.max_bytes(), 64 << 20);
/// # Ok::<(), pool_cache::L2BuildError>(())
/// ```
#[must_use = "a builder does nothing until .build()"]
pub struct MemoryL2Builder {
    max_bytes: u64,
    max_value: usize,
    clock: Option<Arc<dyn Clock>>,
}

impl fmt::Debug for MemoryL2Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryL2Builder")
            .field("max_bytes", &self.max_bytes)
            .field("max_value_size", &self.max_value)
            .field("clock", &self.clock.is_some())
            .finish()
    }
}

impl MemoryL2Builder {
    /// The largest value accepted (default [`DEFAULT_MAX_VALUE_SIZE`], lowered to what one
    /// shard of the byte bound can hold).
    ///
    /// ```
    /// let l2 = pool_cache::MemoryL2::builder(1 << 20).max_value_size(100).build()?;
    /// assert_eq!(l2.max_value_size(), 100);
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    pub fn max_value_size(mut self, bytes: usize) -> Self {
        self.max_value = bytes;
        self
    }

    /// The time source for expiry (default [`MonotonicClock`]).
    ///
    /// ```
    /// let l2 = pool_cache::MemoryL2::builder(1 << 20).clock(pool_cache::ManualClock::new()).build()?;
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Builds the store.
    ///
    /// # Errors
    ///
    /// [`L2BuildErrorKind::Capacity`] when the byte bound or the value limit is zero, or the
    /// value limit is over the byte bound.
    ///
    /// ```
    /// use pool_cache::{L2BuildErrorKind, MemoryL2};
    ///
    /// let err = MemoryL2::builder(1 << 20).max_value_size(0).build().unwrap_err();
    /// assert_eq!(err.kind(), L2BuildErrorKind::Capacity);
    /// ```
    pub fn build(self) -> Result<MemoryL2, L2BuildError> {
        if self.max_bytes == 0 {
            return Err(L2BuildError::new(
                L2BuildErrorKind::Capacity,
                "max_bytes must be > 0, got 0",
            ));
        }
        if self.max_value == 0 || self.max_value as u64 > self.max_bytes {
            return Err(L2BuildError::new(
                L2BuildErrorKind::Capacity,
                format!(
                    "max_value_size must be > 0 and <= max_bytes ({}), got {}",
                    self.max_bytes, self.max_value
                ),
            ));
        }
        let clock = self.clock.unwrap_or_else(|| Arc::new(MonotonicClock::new()));
        // Shards split the byte bound; keep each one able to hold four of the largest values,
        // so the value limit stays what the user asked for wherever the byte bound allows.
        let per_core = std::thread::available_parallelism().map_or(1, |n| n.get()) * 8;
        let by_size =
            (self.max_bytes / (4 * (self.max_value as u64 + MEMORY_RECORD_OVERHEAD))).max(1);
        let shards =
            prev_power_of_two(per_core.min(usize::try_from(by_size).unwrap_or(usize::MAX)));
        let counters = Arc::new(Counters::default());
        let listener_counters = Arc::clone(&counters);
        let cache = Cache::builder(self.max_bytes)
            .policy(Policy::Lru)
            .shards(shards)
            .weigher(|k: &Key, v: &Arc<Record>| record_weight(k.len(), v.value.len()))
            .expiry(RecordExpiry { clock: Arc::clone(&clock) })
            .clock(Arc::clone(&clock))
            .removal_listener(move |_, _, cause| match cause {
                RemovalCause::Size => listener_counters.evicted(1),
                RemovalCause::Expired => listener_counters.expired(1),
                _ => {}
            })
            .build()
            .map_err(|e| L2BuildError::with_source(L2BuildErrorKind::Capacity, e.to_string(), e))?;
        let shard_capacity = self.max_bytes / shards as u64;
        let max_value = self.max_value.min(
            usize::try_from(shard_capacity.saturating_sub(MEMORY_RECORD_OVERHEAD + 1))
                .unwrap_or(usize::MAX),
        );
        Ok(MemoryL2 { cache, clock, max_value, shard_capacity, counters })
    }
}

fn prev_power_of_two(n: usize) -> usize {
    if n <= 1 { 1 } else { 1 << (usize::BITS - 1 - n.leading_zeros()) }
}

fn record_weight(key: usize, value: usize) -> u64 {
    (key + value) as u64 + MEMORY_RECORD_OVERHEAD
}

impl MemoryL2 {
    /// A store of at most `max_bytes`, with the default value limit and clock.
    ///
    /// # Errors
    ///
    /// [`L2BuildErrorKind::Capacity`] when `max_bytes` is zero.
    ///
    /// ```
    /// let l2 = pool_cache::MemoryL2::new(1 << 20)?;
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    pub fn new(max_bytes: u64) -> Result<Self, L2BuildError> {
        let max_value =
            usize::try_from(max_bytes).unwrap_or(usize::MAX).clamp(1, DEFAULT_MAX_VALUE_SIZE);
        Self::builder(max_bytes).max_value_size(max_value).build()
    }

    /// A builder for a store of at most `max_bytes`.
    ///
    /// ```
    /// let l2 = pool_cache::MemoryL2::builder(1 << 20).build()?;
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    pub fn builder(max_bytes: u64) -> MemoryL2Builder {
        let max_value =
            usize::try_from(max_bytes).unwrap_or(usize::MAX).clamp(1, DEFAULT_MAX_VALUE_SIZE);
        MemoryL2Builder { max_bytes, max_value, clock: None }
    }

    /// The byte bound.
    ///
    /// ```
    /// assert_eq!(pool_cache::MemoryL2::new(4096)?.max_bytes(), 4096);
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    #[must_use]
    pub fn max_bytes(&self) -> u64 {
        self.cache.config().capacity()
    }

    /// The largest value accepted (keys count against it too: key + value must fit one
    /// shard).
    ///
    /// ```
    /// assert!(pool_cache::MemoryL2::new(4096)?.max_value_size() < 4096);
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    #[must_use]
    pub fn max_value_size(&self) -> usize {
        self.max_value
    }

    /// Bytes in use, as the bound counts them.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use pool_cache::L2;
    /// let l2 = pool_cache::MemoryL2::new(1 << 20)?;
    /// l2.set(b"k", b"v", std::time::Duration::MAX).await?;
    /// assert_eq!(l2.used_bytes(), 2 + pool_cache::MEMORY_RECORD_OVERHEAD);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn used_bytes(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.cache.weighted_size()
    }

    fn limit_for(&self, key: &[u8]) -> usize {
        let room = self.shard_capacity.saturating_sub(MEMORY_RECORD_OVERHEAD + key.len() as u64);
        self.max_value.min(usize::try_from(room).unwrap_or(usize::MAX))
    }

    fn check(&self, put: &Put<'_>) -> Result<Option<u64>, L2Error> {
        input::check_put(put, self.limit_for(put.key), &self.counters)
    }

    fn record(&self, value: &[u8], ttl_ms: Option<u64>) -> Arc<Record> {
        let deadline = ttl_ms.map_or(NEVER, |ms| {
            self.clock.now_nanos().saturating_add(ms.saturating_mul(1_000_000)).min(NEVER - 1)
        });
        Arc::new(Record { value: value.into(), deadline })
    }

    fn entry(&self, record: &Record) -> Option<L2Entry> {
        let ttl = if record.deadline == NEVER {
            None
        } else {
            let left = record.deadline.checked_sub(self.clock.now_nanos()).filter(|&n| n > 0)?;
            Some(Duration::from_millis(left.div_ceil(1_000_000)))
        };
        Some(L2Entry { value: record.value.to_vec(), ttl })
    }

    fn get_now(&self, key: &[u8]) -> Result<Option<L2Entry>, L2Error> {
        input::check_key(key)?;
        Ok(self.cache.get(key).and_then(|r| self.entry(&r)))
    }

    fn put_now(&self, put: &Put<'_>, ttl_ms: Option<u64>) -> Result<(), L2Error> {
        let record = self.record(put.value, ttl_ms);
        self.cache.try_insert(put.key.into(), record).map_err(|e| {
            self.counters.too_large();
            let _ = e.into_inner();
            L2Error::too_large(put.value.len(), self.limit_for(put.key))
        })
    }

    fn live(&self, record: &Record) -> bool {
        record.deadline == NEVER || record.deadline > self.clock.now_nanos()
    }
}

impl L2 for MemoryL2 {
    fn get<'a>(&'a self, key: &'a [u8]) -> L2Future<'a, Option<L2Entry>> {
        Box::pin(std::future::ready(self.get_now(key)))
    }

    fn get_many<'a>(&'a self, keys: &'a [&'a [u8]]) -> L2Future<'a, Vec<Option<L2Entry>>> {
        let out = input::check_keys(keys).map(|()| {
            keys.iter().map(|k| self.cache.get(*k).and_then(|r| self.entry(&r))).collect()
        });
        Box::pin(std::future::ready(out))
    }

    fn set<'a>(&'a self, key: &'a [u8], value: &'a [u8], ttl: Duration) -> L2Future<'a, ()> {
        let put = Put::new(key, value, ttl);
        Box::pin(std::future::ready(self.check(&put).and_then(|ms| self.put_now(&put, ms))))
    }

    fn set_many<'a>(&'a self, entries: &'a [Put<'a>]) -> L2Future<'a, ()> {
        let out =
            entries.iter().map(|p| self.check(p)).collect::<Result<Vec<_>, _>>().and_then(|ttls| {
                entries.iter().zip(ttls).try_for_each(|(p, ms)| self.put_now(p, ms))
            });
        Box::pin(std::future::ready(out))
    }

    fn delete<'a>(&'a self, key: &'a [u8]) -> L2Future<'a, bool> {
        let out =
            input::check_key(key).map(|()| self.cache.remove(key).is_some_and(|r| self.live(&r)));
        Box::pin(std::future::ready(out))
    }

    fn delete_many<'a>(&'a self, keys: &'a [&'a [u8]]) -> L2Future<'a, u64> {
        let out = input::check_keys(keys).map(|()| {
            keys.iter().filter(|k| self.cache.remove(**k).is_some_and(|r| self.live(&r))).count()
                as u64
        });
        Box::pin(std::future::ready(out))
    }

    fn delete_prefix<'a>(&'a self, prefix: &'a [u8]) -> L2Future<'a, u64> {
        let out = input::check_prefix(prefix).map(|()| {
            let mut removed = 0;
            self.cache.retain(|k, r| {
                let hit = k.starts_with(prefix);
                if hit && self.live(r) {
                    removed += 1;
                }
                !hit
            });
            removed
        });
        Box::pin(std::future::ready(out))
    }

    fn set_if_absent<'a>(
        &'a self,
        key: &'a [u8],
        value: &'a [u8],
        ttl: Duration,
    ) -> L2Future<'a, bool> {
        let put = Put::new(key, value, ttl);
        let out = self.check(&put).map(|ms| {
            let record = self.record(value, ms);
            let mut stored = false;
            self.cache.compute(key.into(), |old| match old {
                Some(old) if self.live(old) => Some(Arc::clone(old)),
                _ => {
                    stored = true;
                    Some(record)
                }
            });
            stored
        });
        Box::pin(std::future::ready(out))
    }

    fn compare_and_delete<'a>(&'a self, key: &'a [u8], expected: &'a [u8]) -> L2Future<'a, bool> {
        let out = input::check_key(key).map(|()| {
            let mut removed = false;
            self.cache.compute(key.into(), |old| match old {
                Some(old) if self.live(old) && *old.value == *expected => {
                    removed = true;
                    None
                }
                other => other.cloned(),
            });
            removed
        });
        Box::pin(std::future::ready(out))
    }

    fn health(&self) -> L2Future<'_, ()> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn answers_inline(&self) -> bool {
        true
    }

    fn stats(&self) -> L2Stats {
        self.counters.snapshot()
    }
}
