//! The memory-pressure signal other crates subscribe to.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};

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

type Listener = Box<dyn Fn(PressureLevel) + Send + Sync>;

struct Inner {
    level: AtomicU8,
    listeners: Mutex<Vec<Listener>>,
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
/// pressure.subscribe(move |level| {
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
        f.debug_struct("MemoryPressure").field("level", &self.level()).finish_non_exhaustive()
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
        Self(Arc::new(Inner { level: AtomicU8::new(0), listeners: Mutex::new(Vec::new()) }))
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

    /// Calls `listener` with the new level on every change, on the thread that sets it.
    /// Keep it short: it runs inside the monitor's sampling.
    ///
    /// ```
    /// let p = pool_metrics::MemoryPressure::new();
    /// p.subscribe(|level| println!("memory pressure now {level:?}"));
    /// ```
    pub fn subscribe(&self, listener: impl Fn(PressureLevel) + Send + Sync + 'static) {
        self.0.listeners.lock().unwrap_or_else(PoisonError::into_inner).push(Box::new(listener));
    }

    /// Sets the level, calling the subscribers if it changed. Returns whether it changed.
    ///
    /// ```
    /// use pool_metrics::{MemoryPressure, PressureLevel};
    /// let p = MemoryPressure::new();
    /// assert!(p.set(PressureLevel::Critical));
    /// assert!(!p.set(PressureLevel::Critical));
    /// ```
    pub fn set(&self, level: PressureLevel) -> bool {
        let old = self.0.level.swap(level as u8, Relaxed);
        if old == level as u8 {
            return false;
        }
        for listener in self.0.listeners.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            listener(level);
        }
        true
    }
}
