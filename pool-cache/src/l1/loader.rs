//! Single-flight loading: concurrent misses on one key run the loader once.
//!
//! The first caller to miss becomes the key's leader and publishes a slot in `Loads`; later
//! callers wait on that slot (blocking on a condition variable, or awaiting an event for the
//! async variants). The leader stores the value in the cache *before* retiring the slot, so a
//! caller arriving in between finds it in the cache. If the loader panics or (async) is
//! dropped, a guard marks the slot failed and the waiters start over: one of them becomes the
//! next leader and runs its own loader. If it returns an error, `try_get_with` waiters get that
//! same error (one try per flight, as in the tiered cache), while `try_get_or_insert_with`
//! waiters start over with their own loaders.

use super::cache::Cache;
use crate::sync::{Arc, Condvar, Mutex, ThreadId, current_thread_id};
use std::any::Any;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::hash::Hash;

/// A loader's error as a `try_get_with` leader shares it with its waiters.
type SharedError = std::sync::Arc<dyn Any + Send + Sync>;

enum LoadState<V> {
    Loading,
    Done(V),
    /// The loader panicked, was dropped, or failed under `try_get_or_insert_with`.
    Failed,
    /// The loader returned this error under `try_get_with`.
    FailedWith(SharedError),
}

/// How a flight ended, as a waiter sees it.
enum Ended<V> {
    Value(V),
    Error(SharedError),
    Failed,
}

struct Slot<V> {
    /// The thread running a blocking leader's loader: a blocking waiter on that same thread
    /// can only be a call from inside that loader, which would wait for itself.
    leader: Option<ThreadId>,
    state: Mutex<LoadState<V>>,
    cond: Condvar,
    event: event_listener::Event,
}

impl<V: Clone> Slot<V> {
    fn new(leader: Option<ThreadId>) -> Self {
        Self {
            leader,
            state: Mutex::new(LoadState::Loading),
            cond: Condvar::default(),
            event: event_listener::Event::new(),
        }
    }

    /// How the flight ended; `None` while loading.
    fn outcome(&self) -> Option<Ended<V>> {
        match &*self.state.lock() {
            LoadState::Loading => None,
            LoadState::Done(v) => Some(Ended::Value(v.clone())),
            LoadState::Failed => Some(Ended::Failed),
            LoadState::FailedWith(e) => Some(Ended::Error(e.clone())),
        }
    }

    fn wait(&self) -> Ended<V> {
        assert!(
            self.leader != Some(current_thread_id()),
            "get_or_insert_with called for the same key from inside its own loader: it would \
             wait for itself forever; load the value without the cache there, or use another key"
        );
        let mut g = self.state.lock();
        loop {
            match &*g {
                LoadState::Loading => g = self.cond.wait(g),
                LoadState::Done(v) => return Ended::Value(v.clone()),
                LoadState::Failed => return Ended::Failed,
                LoadState::FailedWith(e) => return Ended::Error(e.clone()),
            }
        }
    }

    async fn wait_async(&self) -> Ended<V> {
        loop {
            let listener = self.event.listen();
            if let Some(outcome) = self.outcome() {
                return outcome;
            }
            listener.await;
        }
    }
}

/// What a waiter does with an ended flight: `Some` is its answer, `None` means start over.
/// With `shares` (a `try_get_with` caller) an error of its own type is its answer too.
fn settle<V, E: Send + Sync + 'static>(
    ended: Ended<V>,
    shares: bool,
) -> Option<Result<V, std::sync::Arc<E>>> {
    match ended {
        Ended::Value(v) => Some(Ok(v)),
        Ended::Error(e) if shares => e.downcast::<E>().ok().map(Err),
        Ended::Error(_) | Ended::Failed => None,
    }
}

/// The slots of the loads in flight.
pub(crate) struct Loads<K, V> {
    map: Mutex<hashbrown::HashMap<K, Arc<Slot<V>>>>,
}

impl<K, V> Default for Loads<K, V> {
    fn default() -> Self {
        Self { map: Mutex::new(hashbrown::HashMap::new()) }
    }
}

impl<K, V> fmt::Debug for Loads<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loads").finish_non_exhaustive()
    }
}

enum Role<V> {
    Leader(Arc<Slot<V>>),
    Waiter(Arc<Slot<V>>),
}

/// Retires the leader's slot: on success with the value, with the shared error of a
/// `try_get_with` loader, otherwise (error, panic, dropped future) as failed so that waiters
/// retry.
struct LeaderGuard<'a, K: Hash + Eq, V: Clone> {
    loads: &'a Loads<K, V>,
    key: &'a K,
    slot: Arc<Slot<V>>,
    value: Option<V>,
    error: Option<SharedError>,
}

impl<K: Hash + Eq, V: Clone> Drop for LeaderGuard<'_, K, V> {
    fn drop(&mut self) {
        self.loads.map.lock().remove(self.key);
        *self.slot.state.lock() = match (self.value.take(), self.error.take()) {
            (Some(v), _) => LoadState::Done(v),
            (None, Some(e)) => LoadState::FailedWith(e),
            (None, None) => LoadState::Failed,
        };
        self.slot.cond.notify_all();
        self.slot.event.notify(usize::MAX);
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Loads<K, V> {
    /// Joins the load of `key`, or leads it; `leader` is the blocking leader's thread (`None`
    /// for an async one, whose future may move between threads).
    fn join(&self, key: &K, leader: Option<ThreadId>) -> Role<V> {
        let mut map = self.map.lock();
        if let Some(slot) = map.get(key) {
            return Role::Waiter(slot.clone());
        }
        let slot = Arc::new(Slot::new(leader));
        map.insert(key.clone(), slot.clone());
        Role::Leader(slot)
    }

    /// Loads in flight (for tests).
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> usize {
        self.map.lock().len()
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Cache<K, V> {
    /// The value for `key`, computing and inserting it with `init` on a miss. Concurrent
    /// callers missing on the same key wait for one `init` instead of each running their own;
    /// if it panics, the panic propagates to its caller and one of the waiters runs its own
    /// `init` next.
    ///
    /// # Panics
    ///
    /// If `init` panics (the panic propagates), or if `init` itself calls
    /// `get_or_insert_with` (or [`Cache::try_get_or_insert_with`]) for the same key on this
    /// cache: that call would wait for its own loader forever, so it panics instead, naming
    /// the mistake. Other keys are fine. The async forms cannot tell (a future may move
    /// between threads): there, such a call never completes.
    ///
    /// ```
    /// use pool_cache::Cache;
    ///
    /// let cache: Cache<u64, String> = Cache::builder(100).build()?;
    /// let v = cache.get_or_insert_with(7, || "seven".to_string());
    /// assert_eq!(v, "seven");
    /// assert_eq!(cache.get_or_insert_with(7, || unreachable!()), "seven");
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn get_or_insert_with(&self, key: K, init: impl FnOnce() -> V) -> V {
        match self.try_get_or_insert_with(key, || Ok::<V, Infallible>(init())) {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    /// Like [`Cache::get_or_insert_with`] with a fallible loader; an error is returned to this
    /// caller only, nothing is cached, and the next caller (or a waiter) tries again with its
    /// own loader. [`Cache::try_get_with`] shares the error with the waiters instead.
    ///
    /// # Errors
    ///
    /// Whatever `init` returned, when this caller's `init` ran and failed.
    ///
    /// # Panics
    ///
    /// As [`Cache::get_or_insert_with`]: when `init` panics, or calls back for the same key.
    ///
    /// ```
    /// use pool_cache::Cache;
    ///
    /// let cache: Cache<u64, u64> = Cache::builder(100).build()?;
    /// assert_eq!(cache.try_get_or_insert_with(1, || Err("backend down")), Err("backend down"));
    /// assert_eq!(cache.try_get_or_insert_with(1, || Ok::<_, &str>(11)), Ok(11));
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn try_get_or_insert_with<E>(
        &self,
        key: K,
        init: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        match self.join_blocking::<Infallible>(&key, false) {
            Joined::Answer(Ok(v)) => Ok(v),
            Joined::Answer(Err(never)) => match *never {},
            Joined::Lead(mut guard) => {
                let v = init()?;
                self.insert(key.clone(), v.clone());
                guard.value = Some(v.clone());
                Ok(v)
            }
        }
    }

    /// Like [`Cache::try_get_or_insert_with`], but a failed load is shared: the callers that
    /// waited on it get the same error (behind an `Arc`) instead of each running their own
    /// loader in turn, so a backend that is down is asked once per flight, not once per
    /// caller (moka's `try_get_with`, and the rule of [`TieredCache`](crate::TieredCache)).
    /// Nothing is cached on an error; the next call tries again.
    ///
    /// # Errors
    ///
    /// The error of the loader that ran for this flight: this caller's, or the one it waited
    /// for.
    ///
    /// # Panics
    ///
    /// As [`Cache::get_or_insert_with`]: when `init` panics (waiters then start over), or
    /// calls back for the same key.
    ///
    /// ```
    /// use pool_cache::Cache;
    ///
    /// let cache: Cache<u64, u64> = Cache::builder(100).build()?;
    /// let err = cache.try_get_with(1, || Err::<u64, _>("backend down")).unwrap_err();
    /// assert_eq!(*err, "backend down");
    /// assert_eq!(cache.try_get_with(1, || Ok::<_, &str>(11)), Ok(11));
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub fn try_get_with<E: Send + Sync + 'static>(
        &self,
        key: K,
        init: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, std::sync::Arc<E>> {
        match self.join_blocking::<E>(&key, true) {
            Joined::Answer(answer) => answer,
            Joined::Lead(guard) => self.finish_shared(&key, guard, init()),
        }
    }

    /// Stores a sharing leader's outcome: the value in the cache, or the error for its waiters.
    fn finish_shared<E: Send + Sync + 'static>(
        &self,
        key: &K,
        mut guard: LeaderGuard<'_, K, V>,
        loaded: Result<V, E>,
    ) -> Result<V, std::sync::Arc<E>> {
        match loaded {
            Ok(v) => {
                self.insert(key.clone(), v.clone());
                guard.value = Some(v.clone());
                Ok(v)
            }
            Err(e) => {
                let e = std::sync::Arc::new(e);
                guard.error = Some(e.clone());
                Err(e)
            }
        }
    }

    /// Joins `key`'s flight until this caller has an answer or leads a load of its own (the
    /// guard retires the slot). With `shares`, an ended flight's error of type `E` is an
    /// answer; otherwise a failed flight means start over.
    fn join_blocking<'a, E: Send + Sync + 'static>(
        &'a self,
        key: &'a K,
        shares: bool,
    ) -> Joined<'a, K, V, E> {
        loop {
            if let Some(v) = self.get(key) {
                return Joined::Answer(Ok(v));
            }
            match self.inner_loads().join(key, Some(current_thread_id())) {
                Role::Leader(slot) => return self.lead(key, slot),
                Role::Waiter(slot) => {
                    if let Some(answer) = settle(slot.wait(), shares) {
                        return Joined::Answer(answer);
                    }
                }
            }
        }
    }

    /// The async form of [`join_blocking`](Self::join_blocking).
    async fn join_async<'a, E: Send + Sync + 'static>(
        &'a self,
        key: &'a K,
        shares: bool,
    ) -> Joined<'a, K, V, E> {
        loop {
            if let Some(v) = self.get(key) {
                return Joined::Answer(Ok(v));
            }
            match self.inner_loads().join(key, None) {
                Role::Leader(slot) => return self.lead(key, slot),
                Role::Waiter(slot) => {
                    if let Some(answer) = settle(slot.wait_async().await, shares) {
                        return Joined::Answer(answer);
                    }
                }
            }
        }
    }

    /// This caller leads `key`'s load, unless a leader that finished between its miss and its
    /// join has already cached the value.
    fn lead<'a, E>(&'a self, key: &'a K, slot: Arc<Slot<V>>) -> Joined<'a, K, V, E> {
        let mut guard =
            LeaderGuard { loads: self.inner_loads(), key, slot, value: None, error: None };
        if let Some(v) = self.peek(key) {
            guard.value = Some(v.clone());
            return Joined::Answer(Ok(v));
        }
        Joined::Lead(guard)
    }

    /// The async form of [`Cache::get_or_insert_with`]: waiters await the leader's future
    /// without blocking their executor thread. If the leader's future is dropped, a waiter
    /// takes over. `init` must not await a load of the same key on this cache: that load
    /// would wait for `init`, which waits for it, and neither ever completes.
    ///
    /// ```
    /// use pool_cache::Cache;
    ///
    /// let cache: Cache<u64, u64> = Cache::builder(100).build()?;
    /// let v = futures::executor::block_on(cache.get_or_insert_with_async(1, async { 5 }));
    /// assert_eq!(v, 5);
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub async fn get_or_insert_with_async(&self, key: K, init: impl Future<Output = V>) -> V {
        match self
            .try_get_or_insert_with_async(key, async { Ok::<V, Infallible>(init.await) })
            .await
        {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    /// The async form of [`Cache::try_get_or_insert_with`].
    ///
    /// # Errors
    ///
    /// Whatever `init` resolved to, when this caller's `init` ran and failed.
    ///
    /// ```
    /// use pool_cache::Cache;
    ///
    /// let cache: Cache<u64, u64> = Cache::builder(100).build()?;
    /// let r = futures::executor::block_on(cache.try_get_or_insert_with_async(1, async { Err::<u64, _>("no") }));
    /// assert_eq!(r, Err("no"));
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub async fn try_get_or_insert_with_async<E>(
        &self,
        key: K,
        init: impl Future<Output = Result<V, E>>,
    ) -> Result<V, E> {
        match self.join_async::<Infallible>(&key, false).await {
            Joined::Answer(Ok(v)) => Ok(v),
            Joined::Answer(Err(never)) => match *never {},
            Joined::Lead(mut guard) => {
                let v = init.await?;
                self.insert(key.clone(), v.clone());
                guard.value = Some(v.clone());
                Ok(v)
            }
        }
    }

    /// The async form of [`Cache::try_get_with`]: waiters await the leader's future and share
    /// its error. If the leader's future is dropped, a waiter takes over.
    ///
    /// # Errors
    ///
    /// The error of the loader that ran for this flight.
    ///
    /// ```
    /// use pool_cache::Cache;
    ///
    /// let cache: Cache<u64, u64> = Cache::builder(100).build()?;
    /// let r = futures::executor::block_on(cache.try_get_with_async(1, async { Err::<u64, _>("no") }));
    /// assert_eq!(*r.unwrap_err(), "no");
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    pub async fn try_get_with_async<E: Send + Sync + 'static>(
        &self,
        key: K,
        init: impl Future<Output = Result<V, E>>,
    ) -> Result<V, std::sync::Arc<E>> {
        match self.join_async::<E>(&key, true).await {
            Joined::Answer(answer) => answer,
            Joined::Lead(guard) => {
                let loaded = init.await;
                self.finish_shared(&key, guard, loaded)
            }
        }
    }
}

/// What joining a flight gave: an answer, or the lead of a new load.
enum Joined<'a, K: Hash + Eq, V: Clone, E> {
    Answer(Result<V, std::sync::Arc<E>>),
    Lead(LeaderGuard<'a, K, V>),
}

#[cfg(all(test, not(shuttle)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    /// Who holds `key`'s slot: the map, the leader's guard, and each waiter.
    fn holders(cache: &Cache<u64, u64>, key: u64) -> usize {
        cache.inner_loads().map.lock().get(&key).map_or(0, Arc::strong_count)
    }

    /// Yields until `done`, for at most 10 s.
    fn wait_until(done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "timed out");
            std::thread::yield_now();
        }
    }

    /// A leader blocked in a failing loader with `waiters` callers waiting on it; returns the
    /// loader runs and every caller's result.
    fn failing_flight<R: Send>(
        waiters: usize,
        call: impl Fn(&Cache<u64, u64>, &AtomicUsize, Option<&mpsc::Receiver<()>>) -> R + Sync,
    ) -> (usize, Vec<R>) {
        let cache: Cache<u64, u64> = Cache::builder(100).build().expect("valid");
        let runs = AtomicUsize::new(0);
        let (release, gate) = mpsc::channel::<()>();
        let results = std::thread::scope(|s| {
            let (c, r, call) = (&cache, &runs, &call);
            let leader = s.spawn(move || call(c, r, Some(&gate)));
            wait_until(|| holders(&cache, 1) == 2);
            let waiting: Vec<_> = (0..waiters).map(|_| s.spawn(move || call(c, r, None))).collect();
            wait_until(|| holders(&cache, 1) == 2 + waiters);
            release.send(()).expect("the leader waits");
            let mut all = vec![leader.join().expect("no panic")];
            all.extend(waiting.into_iter().map(|w| w.join().expect("no panic")));
            all
        });
        (runs.load(SeqCst), results)
    }

    /// The leader's loader (with the gate) waits for it and fails; a waiter's loads 7.
    fn load(runs: &AtomicUsize, gate: Option<&mpsc::Receiver<()>>) -> Result<u64, String> {
        runs.fetch_add(1, SeqCst);
        match gate {
            Some(g) => {
                let _ = g.recv_timeout(Duration::from_secs(10));
                Err("down".to_string())
            }
            None => Ok(7),
        }
    }

    #[test]
    fn try_get_with_waiters_share_the_leaders_error_and_run_no_loader() {
        let (runs, results) =
            failing_flight(4, |cache, runs, gate| cache.try_get_with(1, || load(runs, gate)));
        assert_eq!(runs, 1, "one loader for the flight");
        assert!(results.iter().all(|r| r.as_ref().is_err_and(|e| **e == "down")), "{results:?}");
    }

    #[test]
    fn try_get_or_insert_with_waiters_start_over_with_their_own_loaders() {
        let (runs, results) = failing_flight(4, |cache, runs, gate| {
            cache.try_get_or_insert_with(1, || load(runs, gate))
        });
        // The leader fails; one waiter loads 7 and the others find it.
        assert_eq!(runs, 2);
        assert_eq!(results[0], Err("down".to_string()));
        assert!(results[1..].iter().all(|r| *r == Ok(7)), "{results:?}");
    }
}
