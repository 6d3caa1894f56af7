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

    /// Raises the count to `total` if it is lower, and returns the count before; never lowers
    /// it. This is how a component that keeps its own monotonic totals (a pool's completed
    /// tasks, a breaker's rejections) mirrors them into a [`Registry`](crate::Registry)
    /// counter at export time: pass the source's current total. Exporters racing with stale
    /// totals cannot move the counter backwards. (There is deliberately no `set`: a count that
    /// may go down is a [`Gauge`](crate::Gauge).)
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    ///
    /// let completed = AtomicU64::new(0); // a component's own statistic
    /// let exported = pool_metrics::Counter::new();
    /// completed.fetch_add(7, Ordering::Relaxed);
    /// exported.advance_to(completed.load(Ordering::Relaxed));
    /// assert_eq!(exported.get(), 7);
    /// assert_eq!(exported.advance_to(5), 7); // a stale total is ignored
    /// assert_eq!(exported.get(), 7);
    /// ```
    #[inline]
    pub fn advance_to(&self, total: u64) -> u64 {
        self.0.fetch_max(total, Relaxed)
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

    #[test]
    fn racing_advances_end_at_the_largest_total() {
        let c = Counter::new();
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let c = &c;
                s.spawn(move || {
                    for i in 0..1_000u64 {
                        c.advance_to(i * 4 + t);
                    }
                });
            }
        });
        assert_eq!(c.get(), 3_999);
    }
}
