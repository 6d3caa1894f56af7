//! One load per key across the tiered read path (L2 lookup and loader together).
//!
//! The workspace's loader rule, for the tiered cache, the memoizing pool and the L1's
//! `try_get_with`: the first caller to miss leads the key's flight; later callers wait for it. When the flight fails, every
//! waiter gets the leader's error (shared through an `Arc`, as moka's `try_get_with` does), so
//! a failing backend is asked once per flight, not once per waiter; the next call after the
//! flight starts a new one. A leader that gives up without an outcome (its future dropped)
//! hands the flight to a waiter, which runs its own loader. (The L1's `try_get_or_insert_with`
//! is the one documented exception: like quick_cache's, its waiters retry with their own
//! loaders, for callers whose error type cannot be shared.)

use crate::sync::{Arc, Mutex};
use std::any::Any;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// A failed flight's error, type-erased so callers with different error types can share a key.
pub(crate) type SharedError = Arc<dyn Any + Send + Sync>;

/// How a flight ended.
#[derive(Clone)]
pub(crate) enum Outcome<V> {
    /// The value (or an authoritative "not found" from a loader).
    Value(Option<V>),
    /// Only the L2 was asked (a plain `get`) and it had nothing: waiters with a loader retry.
    Missing,
    /// The loader failed with this error.
    Failed(SharedError),
    /// The loader panicked.
    Panicked(Arc<str>),
    /// The leader stopped without an outcome (a dropped future): a waiter takes over.
    Abandoned,
}

pub(crate) struct Slot<V> {
    state: parking_lot::Mutex<Option<Outcome<V>>>,
    cond: parking_lot::Condvar,
    event: event_listener::Event,
}

impl<V: Clone> Slot<V> {
    /// Waits at most `timeout`; `None` if the flight is still going.
    pub(crate) fn wait(&self, timeout: Duration) -> Option<Outcome<V>> {
        let deadline = Instant::now() + timeout;
        let mut g = self.state.lock();
        loop {
            if let Some(o) = &*g {
                return Some(o.clone());
            }
            if self.cond.wait_until(&mut g, deadline).timed_out() {
                return g.clone();
            }
        }
    }

    pub(crate) async fn wait_async(&self) -> Outcome<V> {
        loop {
            let listener = self.event.listen();
            if let Some(o) = &*self.state.lock() {
                return o.clone();
            }
            listener.await;
        }
    }
}

pub(crate) enum Role<V> {
    Leader(Arc<Slot<V>>),
    Waiter(Arc<Slot<V>>),
}

/// The flights in progress.
pub(crate) struct Flights<K, V> {
    map: Mutex<hashbrown::HashMap<K, Arc<Slot<V>>>>,
}

impl<K, V> Default for Flights<K, V> {
    fn default() -> Self {
        Self { map: Mutex::new(hashbrown::HashMap::new()) }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Flights<K, V> {
    pub(crate) fn join(&self, key: &K) -> Role<V> {
        let mut map = self.map.lock();
        if let Some(slot) = map.get(key) {
            return Role::Waiter(slot.clone());
        }
        let slot = Arc::new(Slot {
            state: parking_lot::Mutex::new(None),
            cond: parking_lot::Condvar::new(),
            event: event_listener::Event::new(),
        });
        map.insert(key.clone(), slot.clone());
        Role::Leader(slot)
    }

    /// Detaches the key's flight (after an invalidation): new callers start a new one; the
    /// detached flight still answers its own waiters.
    pub(crate) fn forget(&self, key: &K) {
        self.map.lock().remove(key);
    }

    /// Callers waiting on the key's flight now (the map's and the leader's handles aside).
    #[cfg(test)]
    pub(crate) fn waiters(&self, key: &K) -> usize {
        self.map.lock().get(key).map_or(0, |s| Arc::strong_count(s).saturating_sub(2))
    }

    /// Detaches every flight.
    pub(crate) fn forget_all(&self) {
        self.map.lock().clear();
    }
}

/// Ends the leader's flight: with the outcome it set, or [`Outcome::Abandoned`] if it is
/// dropped without one (an async leader whose future was dropped).
pub(crate) struct LeaderGuard<'a, K: Hash + Eq + Clone, V: Clone> {
    pub(crate) flights: &'a Flights<K, V>,
    pub(crate) key: K,
    pub(crate) slot: Arc<Slot<V>>,
    pub(crate) outcome: Option<Outcome<V>>,
}

impl<K: Hash + Eq + Clone, V: Clone> Drop for LeaderGuard<'_, K, V> {
    fn drop(&mut self) {
        {
            let mut map = self.flights.map.lock();
            if map.get(&self.key).is_some_and(|s| Arc::ptr_eq(s, &self.slot)) {
                map.remove(&self.key);
            }
        }
        *self.slot.state.lock() = Some(self.outcome.take().unwrap_or(Outcome::Abandoned));
        self.slot.cond.notify_all();
        self.slot.event.notify(usize::MAX);
    }
}

/// The message of a caught panic.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> Arc<str> {
    if let Some(s) = payload.downcast_ref::<&str>() {
        Arc::from(*s)
    } else if let Some(s) = payload.downcast_ref::<String>() {
        Arc::from(s.as_str())
    } else {
        Arc::from("a non-string panic payload")
    }
}
