//! Publishing a controller's statistics to a `pool_metrics::Registry`.

use pool_metrics::{Registry, RegistryError};

use super::controller::ConcurrencyController;
use crate::sync::lock;

impl ConcurrencyController {
    /// Publishes the statistics to `registry` under the label `controller=<name>`: the
    /// counters `concurrency_submitted_total`, `concurrency_completed_total`,
    /// `concurrency_failed_total`, `concurrency_rejected_total`, `concurrency_timed_out_total`,
    /// `concurrency_retries_total` and `concurrency_retries_denied_total`, and the gauges
    /// `concurrency_in_flight`, `concurrency_running` and `concurrency_queued`.
    ///
    /// Call it periodically (from a metrics scrape, say); each call adds what happened since the
    /// previous one, so the registry's counters stay monotonic, and sets the gauges to now.
    ///
    /// # Errors
    ///
    /// [`RegistryError`] if `name` is not a valid label value, or the registry already holds one
    /// of these names as another kind of metric.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::ConcurrencyController;
    /// use pool_metrics::Registry;
    ///
    /// let c = ConcurrencyController::new(2)?;
    /// let registry = Registry::new();
    /// c.run(|| Ok::<_, ()>(())).unwrap();
    /// c.export_metrics(&registry, "api")?;
    /// let _ = c.run(|| Err::<(), _>("down"));
    /// c.export_metrics(&registry, "api")?;
    /// let label = [("controller", "api")];
    /// assert_eq!(registry.counter("concurrency_submitted_total", &label)?.get(), 2);
    /// assert_eq!(registry.counter("concurrency_failed_total", &label)?.get(), 1);
    /// assert_eq!(registry.gauge("concurrency_in_flight", &label)?.get(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export_metrics(&self, registry: &Registry, name: &str) -> Result<(), RegistryError> {
        let now = self.stats();
        let mut last = lock(&self.inner.exported);
        let label = [("controller", name)];
        let counters: [(&str, u64, u64); 7] = [
            ("concurrency_submitted_total", now.submitted, last.submitted),
            ("concurrency_completed_total", now.completed, last.completed),
            ("concurrency_failed_total", now.failed, last.failed),
            ("concurrency_rejected_total", now.rejected, last.rejected),
            ("concurrency_timed_out_total", now.timed_out, last.timed_out),
            ("concurrency_retries_total", now.retries, last.retries),
            ("concurrency_retries_denied_total", now.retries_denied, last.retries_denied),
        ];
        for (metric, current, before) in counters {
            registry.counter(metric, &label)?.add(current.saturating_sub(before));
        }
        for (metric, value) in [
            ("concurrency_in_flight", now.in_flight),
            ("concurrency_running", now.running),
            ("concurrency_queued", now.queued),
        ] {
            registry.gauge(metric, &label)?.set(i64::try_from(value).unwrap_or(i64::MAX));
        }
        *last = now;
        Ok(())
    }
}
