//! The memory-pressure signal other crates subscribe to.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

use serde::{Deserialize, Serialize};

use super::subscription::{Listeners, Subscription};

/// How short of memory the process is.
///
/// ```
/// use pool_metrics::PressureLevel;
/// assert!(PressureLevel::Critical > PressureLevel::High);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PressureLevel {
    /// Below every threshold.
    Normal,
    /// Above the soft threshold: caches should shrink, pools drop idle resources.
    High,
    /// Above the hard threshold: shed everything that can be rebuilt.
    Critical,
}

impl PressureLevel {
    fn from_u8(v: u8) -> Self {
        match v {
            0 => PressureLevel::Normal,
            1 => PressureLevel::High,
            _ => PressureLevel::Critical,
        }
    }
}

type Listener = dyn Fn(PressureLevel) + Send + Sync;

struct Inner {
    level: AtomicU8,
    listeners: Listeners<Listener>,
}

/// A shared memory-pressure signal: a [`MemoryMonitor`](crate::MemoryMonitor) sets it, caches
/// and pools read [`level`](Self::level) (one relaxed load) or [`subscribe`](Self::subscribe)
/// to changes. Cloning shares the signal.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use pool_metrics::{MemoryPressure, PressureLevel};
///
/// let pressure = MemoryPressure::new();
/// let shrinks = Arc::new(AtomicUsize::new(0));
/// let s = shrinks.clone();
/// // Keep the subscription as long as the listener should run (e.g. in the cache it shrinks).
/// let _subscription = pressure.subscribe(move |level| {
///     if level >= PressureLevel::High {
///         s.fetch_add(1, Ordering::Relaxed); // e.g. cache.shrink_to(cache.len() / 2)
///     }
/// });
/// pressure.set(PressureLevel::High);
/// pressure.set(PressureLevel::High); // no change, no call
/// assert_eq!(shrinks.load(Ordering::Relaxed), 1);
/// assert_eq!(pressure.level(), PressureLevel::High);
/// ```
#[derive(Clone)]
pub struct MemoryPressure(Arc<Inner>);

impl fmt::Debug for MemoryPressure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryPressure")
            .field("level", &self.level())
            .field("subscribers", &self.0.listeners.len())
            .finish()
    }
}

impl Default for MemoryPressure {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryPressure {
    /// A signal at [`PressureLevel::Normal`] with no subscribers.
    ///
    /// ```
    /// let p = pool_metrics::MemoryPressure::new();
    /// assert_eq!(p.level(), pool_metrics::PressureLevel::Normal);
    /// ```
    pub fn new() -> Self {
        Self(Arc::new(Inner { level: AtomicU8::new(0), listeners: Listeners::new() }))
    }

    /// The current level.
    ///
    /// ```
    /// let p = pool_metrics::MemoryPressure::new();
    /// assert_eq!(p.level(), pool_metrics::PressureLevel::Normal);
    /// ```
    pub fn level(&self) -> PressureLevel {
        PressureLevel::from_u8(self.0.level.load(Relaxed))
    }

    /// Calls `listener` with the new level on every change, on the thread that sets it, until
    /// the returned [`Subscription`] is dropped (or for good after
    /// [`Subscription::detach`]).
    ///
    /// Listeners run with no lock held, so a listener may subscribe, unsubscribe, or set the
    /// level itself. When two threads change the level at once, their listeners' calls may
    /// interleave; read [`level`](Self::level) for the level now. A panicking listener
    /// panics the thread that set the level (the level is already changed by then).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use pool_metrics::{MemoryPressure, PressureLevel};
    ///
    /// let p = MemoryPressure::new();
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let sink = seen.clone();
    /// let subscription = p.subscribe(move |level| sink.lock().unwrap().push(level));
    /// p.set(PressureLevel::High);
    /// p.set(PressureLevel::Normal);
    /// assert_eq!(*seen.lock().unwrap(), [PressureLevel::High, PressureLevel::Normal]);
    /// # drop(subscription);
    /// ```
    pub fn subscribe(
        &self,
        listener: impl Fn(PressureLevel) + Send + Sync + 'static,
    ) -> Subscription {
        self.0.listeners.add(Arc::new(listener))
    }

    /// Sets the level, calling the subscribers (outside any lock) if it changed. Returns
    /// whether it changed.
    ///
    /// ```
    /// use pool_metrics::{MemoryPressure, PressureLevel};
    /// let p = MemoryPressure::new();
    /// assert!(p.set(PressureLevel::Critical));
    /// assert!(!p.set(PressureLevel::Critical));
    /// assert_eq!(p.level(), PressureLevel::Critical);
    /// ```
    pub fn set(&self, level: PressureLevel) -> bool {
        let old = self.0.level.swap(level as u8, Relaxed);
        if old == level as u8 {
            return false;
        }
        for listener in self.0.listeners.snapshot() {
            listener(level);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn a_listener_may_subscribe_and_set_from_inside_a_notification() {
        // Before listeners ran outside the list's lock, both of these deadlocked.
        let p = MemoryPressure::new();
        let inner_calls = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::new(Mutex::new(Vec::new()));
        let (p2, calls, keep) = (p.clone(), inner_calls.clone(), kept.clone());
        let _outer = p.subscribe(move |level| {
            if level == PressureLevel::High {
                let c = calls.clone();
                keep.lock().unwrap().push(p2.subscribe(move |l| c.lock().unwrap().push(l)));
                // Setting again from a listener re-enters `set`.
                p2.set(PressureLevel::Critical);
            }
        });
        p.set(PressureLevel::High);
        assert_eq!(p.level(), PressureLevel::Critical);
        // The inner listener subscribed during the High notification and saw Critical.
        assert_eq!(*inner_calls.lock().unwrap(), [PressureLevel::Critical]);
        assert_eq!(kept.lock().unwrap().len(), 1);
    }

    #[test]
    fn dropping_the_subscription_unsubscribes_even_from_inside_its_listener() {
        let p = MemoryPressure::new();
        let calls = Arc::new(Mutex::new(0));
        let slot: Arc<Mutex<Option<Subscription>>> = Arc::new(Mutex::new(None));
        let (c, s) = (calls.clone(), slot.clone());
        let sub = p.subscribe(move |_| {
            *c.lock().unwrap() += 1;
            drop(s.lock().unwrap().take()); // unsubscribes itself
        });
        *slot.lock().unwrap() = Some(sub);
        p.set(PressureLevel::High);
        p.set(PressureLevel::Normal);
        assert_eq!(*calls.lock().unwrap(), 1);
        assert_eq!(p.0.listeners.len(), 0);
    }

    #[test]
    fn a_subscription_outliving_its_signal_drops_quietly() {
        let p = MemoryPressure::new();
        let sub = p.subscribe(|_| ());
        drop(p);
        drop(sub);
    }
}
