//! The read path of [`TieredCache`]: L1, then one flight per key over the L2 lookup and the
//! loader, backfill, negative caching and stale-while-revalidate.

use super::builder::WriteMode;
use super::cache::{Entry, Loaded, TieredCache};
use super::epoch::Mark;
use super::error::LoadError;
use super::flight::{LeaderGuard, Outcome, Role, panic_message};
use super::key::TieredKey;
use super::stats::bump;
use super::write::Writer;
use crate::l2::{L2Entry, L2Error};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// Which way a blocking read found its answer (for callers that report it per call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// The L1 held it.
    L1,
    /// Another caller of this process was loading it; this one waited and shared the answer.
    Flight,
    /// The L2 held it.
    L2,
    /// This caller ran the loader.
    Loader,
}

impl<K, V> TieredCache<K, V>
where
    K: TieredKey,
    V: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
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
        match self.l1.get(key) {
            Some(e) => e.into_option(),
            None => self.get_slow(key),
        }
    }

    #[cold]
    pub(super) fn get_slow(&self, key: &K) -> Option<V> {
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
                // Marked before the load, so that a write during it wins over its value.
                let epoch = self.inner.epochs.mark(&key);
                match catch_unwind(AssertUnwindSafe(f)) {
                    Ok(Ok(v)) => {
                        let loaded = Loaded { value: Some(v.clone()), write_l2: true };
                        self.store_loaded(key, loaded, epoch);
                        Ok(v)
                    }
                    Ok(Err(e)) => Err(self.load_failed(Ok(e)).1),
                    Err(p) => Err(self.load_failed(Err(p)).1),
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
    pub(super) fn refresh<E: Send + Sync + 'static>(
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
    pub(super) fn settle<E: Send + Sync + 'static>(
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
        self.read_through_via(key, loader, &Cell::new(Via::L1))
    }

    /// [`read_through`](Self::read_through), setting `via` to the way the answer came.
    pub(crate) fn read_through_via<E: Send + Sync + 'static>(
        &self,
        key: K,
        loader: Option<impl FnOnce() -> Result<Loaded<V>, E>>,
        via: &Cell<Via>,
    ) -> Result<Option<V>, LoadError<E>> {
        let inner = &*self.inner;
        let slot = loop {
            // `peek`: every caller has just missed the L1 with a counted `get`.
            if let Some(e) = inner.l1.peek(&key) {
                via.set(Via::L1);
                return Ok(e.into_option());
            }
            match inner.flights.join(&key) {
                Role::Leader(slot) => break slot,
                Role::Waiter(slot) => match slot.wait(inner.load_wait) {
                    None => return Err(LoadError::Timeout(inner.load_wait)),
                    Some(o) => {
                        if let Some(answer) = Self::settle(o, loader.is_some()) {
                            via.set(Via::Flight);
                            return answer;
                        }
                    }
                },
            }
        };
        let epoch = inner.epochs.mark(&key);
        let mut guard =
            LeaderGuard { flights: &inner.flights, key: key.clone(), slot, outcome: None };
        // A leader that finished between our miss and our join has filled the L1.
        if let Some(e) = inner.l1.peek(&key) {
            let v = e.into_option();
            guard.outcome = Some(Outcome::Value(v.clone().map(Entry::Present)));
            via.set(Via::L1);
            return Ok(v);
        }
        if let Some(side) = &inner.l2 {
            let start = inner.clock.now_nanos();
            let l2_key = side.key(&key);
            let got = side.blocking.get(&l2_key);
            inner.counters.l2_latency.record(inner.clock.now_nanos().saturating_sub(start));
            if let Some(v) = self.l2_answer(&key, got, epoch) {
                guard.outcome = Some(Outcome::Value(Some(Entry::Present(v.clone()))));
                via.set(Via::L2);
                return Ok(Some(v));
            }
        }
        let Some(loader) = loader else {
            guard.outcome = Some(Outcome::Missing);
            return Ok(None);
        };
        via.set(Via::Loader);
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
                let (outcome, e) = self.load_failed(Ok(e));
                (outcome, Err(e))
            }
            Err(payload) => {
                let (outcome, e) = self.load_failed(Err(payload));
                (outcome, Err(e))
            }
        };
        guard.outcome = Some(outcome);
        answer
    }

    /// The async read path below the L1.
    pub(super) async fn read_through_async<E: Send + Sync + 'static>(
        &self,
        key: K,
        loader: impl Future<Output = Result<Option<V>, E>>,
    ) -> Result<Option<V>, LoadError<E>> {
        let inner = &*self.inner;
        let slot = loop {
            // `peek`: every caller has just missed the L1 with a counted `get`.
            if let Some(e) = inner.l1.peek(&key) {
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
        let epoch = inner.epochs.mark(&key);
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
                let (outcome, e) = self.load_failed(Ok(e));
                (outcome, Err(e))
            }
            Err(payload) => {
                let (outcome, e) = self.load_failed(Err(payload));
                (outcome, Err(e))
            }
        };
        guard.outcome = Some(outcome);
        answer
    }

    /// Counts a load that returned `Ok(error)` or panicked (`Err(payload)`), and shapes it for
    /// the flight's waiters and for this caller.
    fn load_failed<E: Send + Sync + 'static>(
        &self,
        failure: Result<E, Box<dyn Any + Send>>,
    ) -> (Outcome<Entry<V>>, LoadError<E>) {
        bump(&self.inner.counters.load_errors, 1);
        match failure {
            Ok(e) => {
                let e = Arc::new(e);
                let shared: Arc<dyn Any + Send + Sync> = e.clone();
                (Outcome::Failed(shared), LoadError::Loader(e))
            }
            Err(payload) => {
                let m = panic_message(&*payload);
                (Outcome::Panicked(m.clone()), LoadError::Panicked(m))
            }
        }
    }

    /// Counts an L2 answer and, on a hit, backfills the L1 (unless a write or invalidation
    /// came since `epoch`) for at most the record's remaining time to live.
    pub(super) fn l2_answer(
        &self,
        key: &K,
        got: Result<Option<L2Entry>, L2Error>,
        epoch: Mark,
    ) -> Option<V> {
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
        if inner.epochs.unchanged(epoch) {
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
    pub(super) fn store_loaded(&self, key: K, loaded: Loaded<V>, epoch: Mark) {
        let inner = &*self.inner;
        if !inner.epochs.unchanged(epoch) {
            return; // invalidated or rewritten while loading: keep the value to this flight
        }
        match loaded.value {
            Some(v) if loaded.write_l2 => {
                // A loader's value that cannot reach the L2 still serves this process.
                if let Err(e) = self.write_as(key, v, inner.ttl, Writer::Load) {
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

    pub(super) async fn store_loaded_async(&self, key: K, loaded: Loaded<V>, epoch: Mark) {
        let inner = &*self.inner;
        let (Some(side), Some(v), WriteMode::Through) =
            (&inner.l2, &loaded.value, inner.write_mode)
        else {
            return self.store_loaded(key, loaded, epoch);
        };
        if !inner.epochs.unchanged(epoch) {
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
