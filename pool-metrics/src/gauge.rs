//! A value that goes up and down.

use std::sync::atomic::{AtomicI64, Ordering::Relaxed};

/// A signed level (queue depth, connections open, bytes cached), shared through `&self`.
///
/// Additions wrap on `i64` overflow, like the atomic underneath.
///
/// ```
/// use pool_metrics::Gauge;
///
/// let g = Gauge::new();
/// g.set(10);
/// g.add(5);
/// g.sub(20);
/// assert_eq!(g.get(), -5);
/// ```
#[derive(Debug, Default)]
pub struct Gauge(AtomicI64);

impl Gauge {
    /// A gauge at zero.
    ///
    /// ```
    /// assert_eq!(pool_metrics::Gauge::new().get(), 0);
    /// ```
    pub const fn new() -> Self {
        Self(AtomicI64::new(0))
    }

    /// Sets the value.
    ///
    /// ```
    /// let g = pool_metrics::Gauge::new();
    /// g.set(-3);
    /// assert_eq!(g.get(), -3);
    /// ```
    #[inline]
    pub fn set(&self, value: i64) {
        self.0.store(value, Relaxed);
    }

    /// Adds `delta` (which may be negative).
    ///
    /// ```
    /// let g = pool_metrics::Gauge::new();
    /// g.add(4);
    /// assert_eq!(g.get(), 4);
    /// ```
    #[inline]
    pub fn add(&self, delta: i64) {
        self.0.fetch_add(delta, Relaxed);
    }

    /// Subtracts `delta`.
    ///
    /// ```
    /// let g = pool_metrics::Gauge::new();
    /// g.sub(4);
    /// assert_eq!(g.get(), -4);
    /// ```
    #[inline]
    pub fn sub(&self, delta: i64) {
        self.0.fetch_sub(delta, Relaxed);
    }

    /// Adds one.
    ///
    /// ```
    /// let g = pool_metrics::Gauge::new();
    /// g.inc();
    /// assert_eq!(g.get(), 1);
    /// ```
    #[inline]
    pub fn inc(&self) {
        self.add(1);
    }

    /// Subtracts one.
    ///
    /// ```
    /// let g = pool_metrics::Gauge::new();
    /// g.dec();
    /// assert_eq!(g.get(), -1);
    /// ```
    #[inline]
    pub fn dec(&self) {
        self.sub(1);
    }

    /// The current value.
    ///
    /// ```
    /// assert_eq!(pool_metrics::Gauge::new().get(), 0);
    /// ```
    #[inline]
    pub fn get(&self) -> i64 {
        self.0.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_adds_and_subs_balance() {
        let g = Gauge::new();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..5_000 {
                        g.inc();
                        g.add(2);
                        g.sub(3);
                    }
                });
            }
        });
        assert_eq!(g.get(), 0);
    }
}
