//! Publishing a rate limiter's counts to a `pool_metrics::Registry`.

use pool_metrics::{Registry, RegistryError};

use crate::limit::rate::RateLimiter;
use crate::sync::{Ordering, lock};

impl RateLimiter {
    /// Publishes the limiter to `registry` under the label `limiter=<name>`: the counters
    /// `rate_limiter_admitted_cells_total` (cells admitted by `check`, `try_acquire` and the
    /// waits built on them) and `rate_limiter_limited_total` (requests refused), and the gauge
    /// `rate_limiter_burst`.
    ///
    /// Call it periodically (from a metrics scrape, say); each call adds what happened since the
    /// previous one, so the registry's counters stay monotonic.
    ///
    /// # Errors
    ///
    /// [`RegistryError`] if `name` is not a valid label value, or the registry already holds one
    /// of these names as another kind of metric.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::RateLimiter;
    /// use pool_metrics::Registry;
    ///
    /// let limiter = RateLimiter::builder().per_second(10.0).burst(3).build()?;
    /// let registry = Registry::new();
    /// assert!(limiter.try_acquire(3).is_ok());
    /// assert!(limiter.check().is_err());
    /// limiter.export_metrics(&registry, "api")?;
    /// let label = [("limiter", "api")];
    /// assert_eq!(registry.counter("rate_limiter_admitted_cells_total", &label)?.get(), 3);
    /// assert_eq!(registry.counter("rate_limiter_limited_total", &label)?.get(), 1);
    /// assert_eq!(registry.gauge("rate_limiter_burst", &label)?.get(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export_metrics(&self, registry: &Registry, name: &str) -> Result<(), RegistryError> {
        let inner = &*self.inner;
        let mut last = lock(&inner.exported);
        let admitted = inner.admitted.load(Ordering::Relaxed);
        let limited = inner.limited.load(Ordering::Relaxed);
        let label = [("limiter", name)];
        registry
            .counter("rate_limiter_admitted_cells_total", &label)?
            .add(admitted.saturating_sub(last.0));
        registry.counter("rate_limiter_limited_total", &label)?.add(limited.saturating_sub(last.1));
        registry.gauge("rate_limiter_burst", &label)?.set(i64::from(self.burst()));
        *last = (admitted, limited);
        Ok(())
    }
}
