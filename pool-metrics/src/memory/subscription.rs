//! Listener lists whose callbacks run outside the list's lock, and the guard that unsubscribes.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, Weak};

/// A subscription to a [`MemoryPressure`](crate::MemoryPressure) or
/// [`MemoryMonitor`](crate::MemoryMonitor): dropping it unsubscribes the listener;
/// [`detach`](Self::detach) keeps the listener for the signal's whole life instead.
///
/// After the drop returns, the listener is never called again, except by a notification that
/// had already started on another thread.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use pool_metrics::{MemoryPressure, PressureLevel};
///
/// let pressure = MemoryPressure::new();
/// let calls = Arc::new(AtomicUsize::new(0));
/// let c = calls.clone();
/// let subscription = pressure.subscribe(move |_| {
///     c.fetch_add(1, Ordering::Relaxed);
/// });
/// pressure.set(PressureLevel::High);
/// drop(subscription);
/// pressure.set(PressureLevel::Normal);
/// assert_eq!(calls.load(Ordering::Relaxed), 1); // the second change came after the drop
/// ```
#[must_use = "dropping a Subscription unsubscribes its listener at once; keep it, or call .detach()"]
pub struct Subscription {
    list: Option<Weak<dyn Unsubscribe>>,
    id: u64,
}

impl Subscription {
    /// Keeps the listener subscribed for as long as the signal lives, and forgets the guard.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// use pool_metrics::{MemoryPressure, PressureLevel};
    ///
    /// let pressure = MemoryPressure::new();
    /// let seen = Arc::new(AtomicBool::new(false));
    /// let s = seen.clone();
    /// pressure.subscribe(move |_| s.store(true, Ordering::Relaxed)).detach();
    /// pressure.set(PressureLevel::Critical);
    /// assert!(seen.load(Ordering::Relaxed));
    /// ```
    pub fn detach(mut self) {
        self.list = None;
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(list) = self.list.take().and_then(|w| w.upgrade()) {
            list.unsubscribe(self.id);
        }
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .field("attached", &self.list.is_some())
            .finish()
    }
}

trait Unsubscribe: Send + Sync {
    fn unsubscribe(&self, id: u64);
}

struct Entries<F: ?Sized> {
    next_id: u64,
    entries: Vec<(u64, Arc<F>)>,
}

impl<F: ?Sized + Send + Sync> Unsubscribe for Mutex<Entries<F>> {
    fn unsubscribe(&self, id: u64) {
        self.lock().unwrap_or_else(PoisonError::into_inner).entries.retain(|(i, _)| *i != id);
    }
}

/// A list of listeners. [`snapshot`](Self::snapshot) copies the handles out under the lock,
/// so callers invoke them with no lock held: a listener may subscribe, unsubscribe or set the
/// signal again without deadlocking.
pub(crate) struct Listeners<F: ?Sized> {
    inner: Arc<Mutex<Entries<F>>>,
}

impl<F: ?Sized + Send + Sync + 'static> Listeners<F> {
    pub(crate) fn new() -> Self {
        Self { inner: Arc::new(Mutex::new(Entries { next_id: 0, entries: Vec::new() })) }
    }

    pub(crate) fn add(&self, listener: Arc<F>) -> Subscription {
        let mut list = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let id = list.next_id;
        list.next_id += 1;
        list.entries.push((id, listener));
        drop(list);
        let weak: Weak<Mutex<Entries<F>>> = Arc::downgrade(&self.inner);
        let weak: Weak<dyn Unsubscribe> = weak;
        Subscription { list: Some(weak), id }
    }

    /// The listeners now, in subscription order.
    pub(crate) fn snapshot(&self) -> Vec<Arc<F>> {
        let list = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        list.entries.iter().map(|(_, f)| f.clone()).collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).entries.len()
    }
}
