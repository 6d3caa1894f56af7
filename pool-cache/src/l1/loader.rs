//! Single-flight loading: concurrent misses on one key run the loader once.
//!
//! The first caller to miss becomes the key's leader and publishes a slot in `Loads`; later
//! callers wait on that slot (blocking on a condition variable, or awaiting an event for the
//! async variants). The leader stores the value in the cache *before* retiring the slot, so a
//! caller arriving in between finds it in the cache. If the loader fails, panics, or (async)
//! is dropped, a guard marks the slot failed and the waiters start over: one of them becomes the
//! next leader and runs its own loader.

use super::cache::Cache;
use crate::sync::{Arc, Condvar, Mutex, ThreadId, current_thread_id};
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::hash::Hash;

enum LoadState<V> {
    Loading,
    Done(V),
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

    /// `Some(value)` once the leader succeeded, `None` if it failed; `Err(())` while loading.
    fn outcome(&self) -> Result<Option<V>, ()> {
        match &*self.state.lock() {
            LoadState::Loading => Err(()),
            LoadState::Done(v) => Ok(Some(v.clone())),
            LoadState::Failed => Ok(None),
        }
    }

    fn wait(&self) -> Option<V> {
        assert!(
            self.leader != Some(current_thread_id()),
            "get_or_insert_with called for the same key from inside its own loader: it would \
             wait for itself forever; load the value without the cache there, or use another key"
        );
        let mut g = self.state.lock();
        loop {
            match &*g {
                LoadState::Loading => g = self.cond.wait(g),
                LoadState::Done(v) => return Some(v.clone()),
                LoadState::Failed => return None,
            }
        }
    }

    async fn wait_async(&self) -> Option<V> {
        loop {
            let listener = self.event.listen();
            if let Ok(outcome) = self.outcome() {
                return outcome;
            }
            listener.await;
        }
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

/// Retires the leader's slot: on success with the value, otherwise (error, panic, dropped
/// future) as failed so that waiters retry.
struct LeaderGuard<'a, K: Hash + Eq, V: Clone> {
    loads: &'a Loads<K, V>,
    key: &'a K,
    slot: Arc<Slot<V>>,
    value: Option<V>,
}

impl<K: Hash + Eq, V: Clone> Drop for LeaderGuard<'_, K, V> {
    fn drop(&mut self) {
        self.loads.map.lock().remove(self.key);
        *self.slot.state.lock() = match self.value.take() {
            Some(v) => LoadState::Done(v),
            None => LoadState::Failed,
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
    /// caller only, nothing is cached, and the next caller (or a waiter) tries again.
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
        let slot = loop {
            if let Some(v) = self.get(&key) {
                return Ok(v);
            }
            match self.inner_loads().join(&key, Some(current_thread_id())) {
                Role::Leader(slot) => break slot,
                Role::Waiter(slot) => {
                    if let Some(v) = slot.wait() {
                        return Ok(v);
                    }
                }
            }
        };
        let mut guard = LeaderGuard { loads: self.inner_loads(), key: &key, slot, value: None };
        // A leader that finished between our miss and our join has already cached the value.
        if let Some(v) = self.peek(&key) {
            guard.value = Some(v.clone());
            return Ok(v);
        }
        let v = init()?;
        self.insert(key.clone(), v.clone());
        guard.value = Some(v.clone());
        Ok(v)
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
        let slot = loop {
            if let Some(v) = self.get(&key) {
                return Ok(v);
            }
            match self.inner_loads().join(&key, None) {
                Role::Leader(slot) => break slot,
                Role::Waiter(slot) => {
                    if let Some(v) = slot.wait_async().await {
                        return Ok(v);
                    }
                }
            }
        };
        let mut guard = LeaderGuard { loads: self.inner_loads(), key: &key, slot, value: None };
        if let Some(v) = self.peek(&key) {
            guard.value = Some(v.clone());
            return Ok(v);
        }
        let v = init.await?;
        self.insert(key.clone(), v.clone());
        guard.value = Some(v.clone());
        Ok(v)
    }
}
