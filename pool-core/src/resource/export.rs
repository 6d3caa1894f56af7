//! Publishing a resource pool's statistics to a `pool_metrics::Registry`.

use pool_metrics::{Registry, RegistryError};

use super::manager::{DestroyReason, Manager};
use super::pool::ResourcePool;
use crate::sync::lock;

/// The counters last exported (so exports add deltas).
#[derive(Debug, Default)]
pub(crate) struct Exported {
    created: u64,
    create_errors: u64,
    detached: u64,
    timeouts: u64,
    acquires: u64,
    destroyed: [u64; 6],
}

/// The `reason` label of each `DestroyReason`, in `DestroyReason::ALL` order.
const REASONS: [&str; 6] = [
    "max_lifetime",
    "idle_timeout",
    "max_uses",
    "validation_failed",
    "recycle_failed",
    "pool_dropped",
];

impl<M: Manager> ResourcePool<M> {
    /// Publishes the statistics to `registry` under the label `pool=<name>`: the counters
    /// `resource_pool_created_total`, `resource_pool_create_errors_total`,
    /// `resource_pool_detached_total`, `resource_pool_timeouts_total`,
    /// `resource_pool_acquires_total` and
    /// `resource_pool_destroyed_total{reason=max_lifetime|idle_timeout|max_uses|validation_failed|recycle_failed|pool_dropped}`,
    /// and the gauges `resource_pool_size`, `resource_pool_idle`, `resource_pool_in_use`,
    /// `resource_pool_waiting`, `resource_pool_acquire_wait_p50_ns` and `..._p99_ns`.
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
    /// # use pool_core::{Manager, ResourcePool};
    /// # struct M; impl Manager for M { type Resource = (); type Error = String;
    /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
    /// use pool_metrics::Registry;
    ///
    /// let pool = ResourcePool::new(M);
    /// let registry = Registry::new();
    /// let conn = pool.get().unwrap();
    /// pool.export_metrics(&registry, "db")?;
    /// let label = [("pool", "db")];
    /// assert_eq!(registry.counter("resource_pool_created_total", &label)?.get(), 1);
    /// assert_eq!(registry.gauge("resource_pool_in_use", &label)?.get(), 1);
    /// drop(conn);
    /// pool.export_metrics(&registry, "db")?;
    /// assert_eq!(registry.gauge("resource_pool_idle", &label)?.get(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export_metrics(&self, registry: &Registry, name: &str) -> Result<(), RegistryError> {
        let s = self.stats();
        let mut last = lock(&self.inner().exported);
        let label = [("pool", name)];
        let counters: [(&str, u64, u64); 5] = [
            ("resource_pool_created_total", s.created, last.created),
            ("resource_pool_create_errors_total", s.create_errors, last.create_errors),
            ("resource_pool_detached_total", s.detached, last.detached),
            ("resource_pool_timeouts_total", s.timeouts, last.timeouts),
            ("resource_pool_acquires_total", s.acquire_wait.count, last.acquires),
        ];
        for (metric, current, before) in counters {
            registry.counter(metric, &label)?.add(current.saturating_sub(before));
        }
        for reason in DestroyReason::ALL {
            let i = reason.index();
            registry
                .counter(
                    "resource_pool_destroyed_total",
                    &[("pool", name), ("reason", REASONS[i])],
                )?
                .add(s.destroyed[i].saturating_sub(last.destroyed[i]));
        }
        let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        for (metric, value) in [
            ("resource_pool_size", s.size as u64),
            ("resource_pool_idle", s.idle as u64),
            ("resource_pool_in_use", s.in_use as u64),
            ("resource_pool_waiting", s.waiting as u64),
            ("resource_pool_acquire_wait_p50_ns", s.acquire_wait.p50),
            ("resource_pool_acquire_wait_p99_ns", s.acquire_wait.p99),
        ] {
            registry.gauge(metric, &label)?.set(clamp(value));
        }
        *last = Exported {
            created: s.created,
            create_errors: s.create_errors,
            detached: s.detached,
            timeouts: s.timeouts,
            acquires: s.acquire_wait.count,
            destroyed: s.destroyed,
        };
        Ok(())
    }
}
