//! Publishing a compute pool's statistics to a `pool_metrics::Registry`.

use pool_metrics::{Registry, RegistryError};

use super::pool::ComputePool;
use crate::sync::lock;

/// The counters last exported (so exports add deltas), in the order of `COUNTERS`.
pub(crate) type Exported = crate::sync::Mutex<[u64; 8]>;

impl ComputePool {
    /// Publishes the statistics to `registry` under the label `pool=<name>`: the counters
    /// `compute_pool_tasks_total{outcome=submitted|started|completed|failed|panicked|expired|cancelled|rejected}`,
    /// and the gauges `compute_pool_in_flight`, `compute_pool_queue_len`,
    /// `compute_pool_concurrency_limit`, `compute_pool_utilisation_permille`, and
    /// `compute_pool_queue_wait_p50_ns`, `..._p99_ns`, `compute_pool_run_time_p50_ns`,
    /// `..._p99_ns` (since the pool was built).
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
    /// use pool_core::ComputePool;
    /// use pool_metrics::Registry;
    ///
    /// let pool = ComputePool::new(1)?;
    /// let registry = Registry::new();
    /// pool.submit(|| 1).unwrap().join().unwrap();
    /// pool.export_metrics(&registry, "render")?;
    /// pool.submit(|| 2).unwrap().join().unwrap();
    /// pool.export_metrics(&registry, "render")?;
    /// let completed = registry.counter(
    ///     "compute_pool_tasks_total",
    ///     &[("pool", "render"), ("outcome", "completed")],
    /// )?;
    /// assert_eq!(completed.get(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export_metrics(&self, registry: &Registry, name: &str) -> Result<(), RegistryError> {
        let s = self.stats();
        let now = [
            s.submitted,
            s.started,
            s.completed,
            s.failed,
            s.panicked,
            s.expired,
            s.cancelled,
            s.rejected,
        ];
        let mut last = lock(self.exported());
        for (i, outcome) in [
            "submitted",
            "started",
            "completed",
            "failed",
            "panicked",
            "expired",
            "cancelled",
            "rejected",
        ]
        .into_iter()
        .enumerate()
        {
            registry
                .counter("compute_pool_tasks_total", &[("pool", name), ("outcome", outcome)])?
                .add(now[i].saturating_sub(last[i]));
        }
        let label = [("pool", name)];
        let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        for (metric, value) in [
            ("compute_pool_in_flight", clamp(s.in_flight)),
            ("compute_pool_queue_len", clamp(s.queue_len)),
            ("compute_pool_concurrency_limit", clamp(s.concurrency_limit as u64)),
            ("compute_pool_utilisation_permille", (s.utilisation * 1000.0).round() as i64),
            ("compute_pool_queue_wait_p50_ns", clamp(s.queue_wait.p50)),
            ("compute_pool_queue_wait_p99_ns", clamp(s.queue_wait.p99)),
            ("compute_pool_run_time_p50_ns", clamp(s.run_time.p50)),
            ("compute_pool_run_time_p99_ns", clamp(s.run_time.p99)),
        ] {
            registry.gauge(metric, &label)?.set(value);
        }
        *last = now;
        Ok(())
    }
}
