//! [`CacheBuilder`]: every knob of a [`Cache`], validated in [`CacheBuilder::build`].

use crate::error::{BuildError, BuildErrorKind};
use crate::l1::{Cache, Expiry, Policy, RemovalCause};
use crate::sync::Arc;
use pool_metrics::{Clock, MonotonicClock};
use std::fmt;
use std::time::Duration;

/// The policy a builder starts with.
pub const DEFAULT_POLICY: Policy = Policy::TinyLfu;
/// Default shards per available core (rounded up to a power of two). Two threads on two cores
/// then meet on one shard's lock word about 1 time in 16.
pub const DEFAULT_SHARDS_PER_CORE: usize = 8;
/// Default shards never hold fewer entries than this each: a policy working on a handful of
/// entries per shard loses hit ratio (measured with `cachesim` on OLTP @ 250: 8 shards of 31
/// entries cost TinyLFU 3 points against 1 shard).
pub const DEFAULT_MIN_SHARD_CAPACITY: u64 = 256;
/// The most a cache spends on its fixed parts (shards, their locks' per-thread stripes),
/// in bytes per unit of capacity: 3 bytes against the ~44 an `u64 → u64` entry takes, so
/// the fixed cost stays under 10% of the entries' however many cores the machine has
/// (`tests/fixed_cost.rs` checks a 100K-entry cache built as on 64 cores). Shards are
/// halved, then stripes, until the layout fits; one shard with [`MIN_STRIPES`] always does.
/// Small caches may always spend [`FIXED_BYTES_FLOOR`].
pub const FIXED_BYTES_PER_CAPACITY: u64 = 3;
/// The fixed cost every cache may spend whatever its capacity (32 KiB: on 64 cores, one shard
/// whose 128 threads each get a stripe), so that a small cache on a big machine keeps a
/// stripe per thread rather than funnelling every hit through one shared line.
pub const FIXED_BYTES_FLOOR: u64 = 32 * 1024;
/// The fewest per-thread reader stripes a shard's lock gets (threads beyond them share one).
pub const MIN_STRIPES: usize = 4;
/// The most cores [`CacheBuilder::cores`] accepts.
pub const MAX_CORES: usize = 1 << 16;

/// The least an entry weighs: a weigher's 0 counts as this much (see [`CacheBuilder::weigher`]).
///
/// ```
/// use pool_cache::{Cache, MIN_WEIGHT};
///
/// let c: Cache<u64, u64> = Cache::builder(10).shards(1).weigher(|_, _| 0).build()?;
/// for i in 0..1000 {
///     c.insert(i, i);
/// }
/// c.run_pending_tasks();
/// assert_eq!(c.len() as u64, 10 / MIN_WEIGHT);
/// # Ok::<(), pool_cache::BuildError>(())
/// ```
pub const MIN_WEIGHT: u64 = 1;

pub(crate) type Weigher<K, V> = Arc<dyn Fn(&K, &V) -> u64 + Send + Sync>;
pub(crate) type Listener<K, V> = Arc<dyn Fn(K, V, RemovalCause) + Send + Sync>;

/// Builds a [`Cache`]; start with [`Cache::builder`].
///
/// ```
/// use pool_cache::{Cache, Policy};
/// use std::time::Duration;
///
/// let cache: Cache<String, Vec<u8>> = Cache::builder(64 * 1024 * 1024)
///     .weigher(|k: &String, v: &Vec<u8>| (k.len() + v.len()) as u64)
///     .policy(Policy::TinyLfu)
///     .time_to_live(Duration::from_secs(300))
///     .build()?;
/// assert_eq!(cache.config().capacity(), 64 * 1024 * 1024);
/// # Ok::<(), pool_cache::BuildError>(())
/// ```
#[must_use = "a builder does nothing until .build()"]
pub struct CacheBuilder<K, V> {
    pub(crate) capacity: u64,
    pub(crate) policy: Policy,
    pub(crate) shards: Option<usize>,
    pub(crate) cores: Option<usize>,
    pub(crate) weigher: Option<Weigher<K, V>>,
    pub(crate) listener: Option<Listener<K, V>>,
    pub(crate) ttl: Option<Duration>,
    pub(crate) tti: Option<Duration>,
    pub(crate) expiry: Option<Arc<dyn Expiry<K, V>>>,
    pub(crate) clock: Option<Arc<dyn Clock>>,
    pub(crate) seed: Option<u64>,
}

impl<K, V> fmt::Debug for CacheBuilder<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheBuilder")
            .field("capacity", &self.capacity)
            .field("policy", &self.policy)
            .field("shards", &self.shards)
            .field("cores", &self.cores)
            .field("weigher", &self.weigher.is_some())
            .field("listener", &self.listener.is_some())
            .field("ttl", &self.ttl)
            .field("tti", &self.tti)
            .field("expiry", &self.expiry)
            .field("clock", &self.clock.is_some())
            .field("seed", &self.seed)
            .finish()
    }
}

impl<K, V> CacheBuilder<K, V> {
    pub(crate) fn new(capacity: u64) -> Self {
        Self {
            capacity,
            policy: DEFAULT_POLICY,
            shards: None,
            cores: None,
            weigher: None,
            listener: None,
            ttl: None,
            tti: None,
            expiry: None,
            clock: None,
            seed: None,
        }
    }

    /// The eviction policy (default [`DEFAULT_POLICY`]).
    ///
    /// ```
    /// use pool_cache::{Cache, Policy};
    ///
    /// let c: Cache<u64, u64> = Cache::builder(10).policy(Policy::Lfu).build()?;
    /// assert_eq!(c.config().policy(), Policy::Lfu);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The number of shards, a power of two no larger than the capacity. Each shard has its own
    /// lock and runs the policy on `capacity / shards`; `.shards(1)` makes [`Policy::Lru`]
    /// exact for the whole cache. Default: `cores × DEFAULT_SHARDS_PER_CORE` (see
    /// [`CacheBuilder::cores`]), lowered until every shard holds at least
    /// [`DEFAULT_MIN_SHARD_CAPACITY`] and the fixed cost fits [`FIXED_BYTES_PER_CAPACITY`].
    ///
    /// ```
    /// use pool_cache::Cache;
    ///
    /// let c: Cache<u64, u64> = Cache::builder(1000).shards(4).build()?;
    /// assert_eq!(c.config().shards(), 4);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = Some(shards);
        self
    }

    /// Measures entries by weight instead of count: the capacity becomes a total weight. The
    /// weigher runs once per insert, outside the lock.
    ///
    /// A weight of 0 counts as 1, so the capacity also bounds the number of entries: a weigher
    /// that returned 0 would otherwise let a cache of capacity 10 grow without bound. Memory
    /// that is not the entries' own (the policy's lists and frequency sketch, about 13 bytes an
    /// entry) is sized from the entries resident, never from the capacity, so a capacity of
    /// 1 GiB in bytes costs nothing until entries arrive.
    ///
    /// ```
    /// use pool_cache::Cache;
    ///
    /// let c: Cache<u64, String> = Cache::builder(10).shards(1).weigher(|_, v: &String| v.len() as u64).build()?;
    /// c.insert(1, "abcdef".into());
    /// c.insert(2, "ghijkl".into());
    /// c.run_pending_tasks();
    /// assert_eq!(c.weighted_size(), 6);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn weigher(mut self, weigher: impl Fn(&K, &V) -> u64 + Send + Sync + 'static) -> Self {
        self.weigher = Some(Arc::new(move |k: &K, v: &V| weigher(k, v).max(MIN_WEIGHT)));
        self
    }

    /// Called with every entry that leaves the cache and why, after the shard lock is released
    /// (so it may use the cache). Runs on the thread that caused the removal.
    ///
    /// ```
    /// use pool_cache::{Cache, RemovalCause};
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use std::sync::Arc;
    ///
    /// let evicted = Arc::new(AtomicU64::new(0));
    /// let e = evicted.clone();
    /// let c: Cache<u64, u64> = Cache::builder(1)
    ///     .removal_listener(move |_, _, cause| if cause == RemovalCause::Size { e.fetch_add(1, Ordering::Relaxed); })
    ///     .build()?;
    /// c.insert(1, 1);
    /// c.insert(2, 2);
    /// assert_eq!(evicted.load(Ordering::Relaxed), 1);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn removal_listener(
        mut self,
        listener: impl Fn(K, V, RemovalCause) + Send + Sync + 'static,
    ) -> Self {
        self.listener = Some(Arc::new(listener));
        self
    }

    /// Every entry expires this long after it was written. `Duration::MAX` means never.
    ///
    /// ```
    /// use pool_cache::Cache;
    /// use std::time::Duration;
    ///
    /// let c: Cache<u64, u64> = Cache::builder(10).time_to_live(Duration::from_secs(60)).build()?;
    /// assert_eq!(c.config().time_to_live(), Some(Duration::from_secs(60)));
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn time_to_live(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Every entry expires this long after it was last read or written.
    ///
    /// ```
    /// use pool_cache::Cache;
    /// use std::time::Duration;
    ///
    /// let c: Cache<u64, u64> = Cache::builder(10).time_to_idle(Duration::from_secs(60)).build()?;
    /// assert_eq!(c.config().time_to_idle(), Some(Duration::from_secs(60)));
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn time_to_idle(mut self, tti: Duration) -> Self {
        self.tti = Some(tti);
        self
    }

    /// Per-entry time to live decided by `expiry` (see [`Expiry`]).
    ///
    /// ```
    /// use pool_cache::{Cache, Expiry};
    /// use std::time::Duration;
    ///
    /// #[derive(Debug)]
    /// struct ByValue;
    /// impl Expiry<u64, u64> for ByValue {
    ///     fn expire_after_create(&self, _: &u64, v: &u64) -> Option<Duration> {
    ///         Some(Duration::from_secs(*v))
    ///     }
    /// }
    /// let c: Cache<u64, u64> = Cache::builder(10).expiry(ByValue).build()?;
    /// # let _ = c;
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn expiry(mut self, expiry: impl Expiry<K, V> + 'static) -> Self {
        self.expiry = Some(Arc::new(expiry));
        self
    }

    /// Fixes the seed of everything random in the cache: the key hash (which picks the shard),
    /// the frequency sketch's hashing and W-TinyLFU's admission jitter. Two caches built alike
    /// with one seed and fed the same single-threaded sequence then keep the same entries, so
    /// simulations and tests repeat exactly.
    ///
    /// By default every cache draws its own random seed, which is what keeps an attacker who
    /// chooses keys from aiming them at one shard or one sketch counter: fix it only where the
    /// keys are not chosen by untrusted parties.
    ///
    /// ```
    /// use pool_cache::Cache;
    ///
    /// let run = || {
    ///     let c: Cache<u64, u64> = Cache::builder(1000).seed(7).build().unwrap();
    ///     for i in 0..50_000u64 {
    ///         let k = (i * i) % 4999;
    ///         if c.get(&k).is_none() {
    ///             c.insert(k, i);
    ///         }
    ///     }
    ///     let mut kept: Vec<u64> = c.iter().map(|(k, _)| k).collect();
    ///     kept.sort();
    ///     (c.stats(), kept)
    /// };
    /// // Without `.seed`, two such runs split the keys over the shards differently.
    /// assert_eq!(run(), run());
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The number of cores the cache is sized for (default: `available_parallelism`). It sets
    /// the default shard count and how many threads get a reader stripe of their own in each
    /// shard's lock (`2 × cores`, at least [`MIN_STRIPES`]), both bounded so that the fixed
    /// cost stays within [`FIXED_BYTES_PER_CAPACITY`] bytes per unit of capacity. Tests use it
    /// to build a cache as it would be on a bigger machine.
    ///
    /// ```
    /// use pool_cache::Cache;
    ///
    /// // A 100K-entry cache on a 64-core server: 16 shards, not 256.
    /// let c: Cache<u64, u64> = Cache::builder(100_000).cores(64).build()?;
    /// assert_eq!((c.config().cores(), c.config().shards()), (64, 16));
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn cores(mut self, cores: usize) -> Self {
        self.cores = Some(cores);
        self
    }

    /// The time source for expiry (default [`MonotonicClock`]); tests pass a
    /// [`ManualClock`](crate::ManualClock).
    ///
    /// ```
    /// use pool_cache::{Cache, ManualClock};
    ///
    /// let c: Cache<u64, u64> = Cache::builder(10).clock(ManualClock::new()).build()?;
    /// # let _ = c;
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Validates the configuration and builds the cache.
    ///
    /// # Errors
    ///
    /// [`BuildError`] when the capacity is 0, the shard count is 0, not a power of two or
    /// larger than the capacity, the core count is 0 or above [`MAX_CORES`], or a
    /// time-to-live or time-to-idle is zero.
    ///
    /// ```
    /// use pool_cache::Cache;
    ///
    /// let err = Cache::<u64, u64>::builder(8).shards(16).build().unwrap_err();
    /// assert_eq!(err.to_string(), "shards must be a power of two no larger than the capacity 8, got 16");
    /// ```
    pub fn build(self) -> Result<Cache<K, V>, BuildError>
    where
        K: std::hash::Hash + Eq,
    {
        if self.capacity == 0 {
            return Err(BuildError::new(
                BuildErrorKind::ZeroCapacity,
                "capacity must be > 0, got 0".to_owned(),
            ));
        }
        if let Some(s) = self.shards
            && (s == 0 || !s.is_power_of_two() || s as u64 > self.capacity)
        {
            return Err(BuildError::new(
                BuildErrorKind::Shards,
                format!(
                    "shards must be a power of two no larger than the capacity {}, got {s}",
                    self.capacity
                ),
            ));
        }
        if let Some(c) = self.cores
            && (c == 0 || c > MAX_CORES)
        {
            return Err(BuildError::new(
                BuildErrorKind::Cores,
                format!("cores must be between 1 and {MAX_CORES}, got {c}"),
            ));
        }
        for (name, d) in [("time_to_live", self.ttl), ("time_to_idle", self.tti)] {
            if d == Some(Duration::ZERO) {
                return Err(BuildError::new(
                    BuildErrorKind::ZeroDuration,
                    format!("{name} must be > 0, got 0; leave it unset for no expiry"),
                ));
            }
        }
        let cores = self
            .cores
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
        let layout = Layout::new(self.capacity, cores, self.shards);
        let clock = self.clock.clone().unwrap_or_else(|| Arc::new(MonotonicClock::new()));
        Ok(Cache::from_builder(self, layout, clock))
    }
}

/// How a cache is cut up: its shard count and each shard lock's exclusive reader stripes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) cores: usize,
    pub(crate) shards: usize,
    pub(crate) stripes: usize,
}

/// What one shard costs whatever it holds, beyond its stripes: the padded shard with its
/// lock and bookkeeping (about 700 bytes measured), rounded up.
const SHARD_BYTES: u64 = 1024;
/// One reader stripe: a cache-padded line pair.
const STRIPE_BYTES: u64 = 128;

impl Layout {
    /// `cores × DEFAULT_SHARDS_PER_CORE` shards (unless `shards` is given), halved while a
    /// shard would hold fewer than [`DEFAULT_MIN_SHARD_CAPACITY`] or the fixed cost would
    /// exceed [`FIXED_BYTES_PER_CAPACITY`] (or [`FIXED_BYTES_FLOOR`]); then `2 × cores`
    /// stripes, halved (down to
    /// [`MIN_STRIPES`]) while the cost still exceeds it. Stripes give way last: a thread
    /// without its own stripe pays a locked add on a shared line for every hit.
    pub(crate) fn new(capacity: u64, cores: usize, shards: Option<usize>) -> Self {
        let budget = capacity.saturating_mul(FIXED_BYTES_PER_CAPACITY).max(FIXED_BYTES_FLOOR);
        let cost = |shards: usize, stripes: usize| {
            (shards as u64).saturating_mul(SHARD_BYTES + (stripes as u64 + 1) * STRIPE_BYTES)
        };
        let mut stripes = cores.saturating_mul(2).max(MIN_STRIPES);
        let shards = shards.unwrap_or_else(|| {
            let mut s = cores.saturating_mul(DEFAULT_SHARDS_PER_CORE).next_power_of_two();
            while s > 1
                && (capacity / (s as u64) < DEFAULT_MIN_SHARD_CAPACITY || cost(s, stripes) > budget)
            {
                s /= 2;
            }
            s
        });
        while stripes > MIN_STRIPES && cost(shards, stripes) > budget {
            stripes = (stripes / 2).max(MIN_STRIPES);
        }
        Self { cores, shards, stripes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_keep_their_fixed_cost_within_budget() {
        // On this kind of machine nothing changes from the per-core rule.
        assert_eq!(Layout::new(10_000, 2, None), Layout { cores: 2, shards: 16, stripes: 4 });
        // A 100K cache on 64 cores: 256 shards of 129 stripes before (4.2 MB).
        let l = Layout::new(100_000, 64, None);
        assert_eq!((l.shards, l.stripes), (16, 128));
        for (cap, cores) in [(100, 64), (5_000, 512), (100_000, 64), (1 << 20, 256), (1 << 30, 8)] {
            let l = Layout::new(cap, cores, None);
            let fixed = l.shards as u64 * (SHARD_BYTES + (l.stripes as u64 + 1) * STRIPE_BYTES);
            let budget = (cap * FIXED_BYTES_PER_CAPACITY).max(FIXED_BYTES_FLOOR);
            assert!(fixed <= budget, "{cap} @ {cores}: {l:?}");
            assert!(l.shards.is_power_of_two() && l.stripes >= MIN_STRIPES);
        }
        // A small cache on 64 cores: one shard, a stripe for each of 128 threads.
        assert_eq!(Layout::new(1_000, 64, None), Layout { cores: 64, shards: 1, stripes: 128 });
        // A given shard count stands; the stripes give way.
        assert_eq!(Layout::new(1_000, 64, Some(8)).stripes, 16);
    }
}
