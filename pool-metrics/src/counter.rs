//! A monotonically increasing count.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A count that only goes up (requests served, errors, evictions), shared through `&self`.
///
/// Additions wrap at `u64::MAX` (2^64 events is centuries at a billion a second).
///
/// ```
/// use pool_metrics::Counter;
///
/// let c = Counter::new();
/// c.inc();
/// c.add(41);
/// assert_eq!(c.get(), 42);
/// ```
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// A counter at zero.
    ///
    /// ```
    /// assert_eq!(pool_metrics::Counter::new().get(), 0);
    /// ```
    pub const fn new() -> Self {
        Self(AtomicU64::new(0))
    }

    /// Adds one.
    ///
    /// ```
    /// let c = pool_metrics::Counter::new();
    /// c.inc();
    /// assert_eq!(c.get(), 1);
    /// ```
    #[inline]
    pub fn inc(&self) {
        self.0.fetch_add(1, Relaxed);
    }

    /// Adds `n`.
    ///
    /// ```
    /// let c = pool_metrics::Counter::new();
    /// c.add(5);
    /// assert_eq!(c.get(), 5);
    /// ```
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }

    /// The current count.
    ///
    /// ```
    /// let c = pool_metrics::Counter::new();
    /// assert_eq!(c.get(), 0);
    /// ```
    #[inline]
    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }

    /// Sets the count back to zero and returns what it was (for interval reporting).
    ///
    /// ```
    /// let c = pool_metrics::Counter::new();
    /// c.add(3);
    /// assert_eq!(c.take(), 3);
    /// assert_eq!(c.get(), 0);
    /// ```
    pub fn take(&self) -> u64 {
        self.0.swap(0, Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_increments_are_exact() {
        let c = Counter::new();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..10_000 {
                        c.inc();
                    }
                    c.add(5);
                });
            }
        });
        assert_eq!(c.get(), 40_020);
    }
}
