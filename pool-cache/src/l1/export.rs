//! Publishing a cache's statistics to a `pool_metrics::Registry`.

use super::cache::Cache;
use super::stats::CacheStats;
use pool_metrics::{Registry, RegistryError};
use std::hash::Hash;

impl<K: Hash + Eq, V> Cache<K, V> {
    /// Publishes the counters to `registry` under the label `cache=<name>`: the counters
    /// `cache_hits_total`, `cache_misses_total`, `cache_inserts_total`,
    /// `cache_admission_rejections_total`, `cache_removals_total{cause=size|expired|explicit|replaced|rejected}`,
    /// and the gauges `cache_entries`, `cache_weighted_size`, `cache_hit_ratio_permille`.
    ///
    /// Call it periodically (from a metrics scrape, say); each call adds what happened since the
    /// previous one, so the registry's counters stay monotonic. The cache keeps counting on its
    /// own striped counters in between, so nothing is added to the hit path.
    ///
    /// # Errors
    ///
    /// [`RegistryError`] if `name` is not a valid label value, or the registry already holds one
    /// of these names as another kind of metric.
    ///
    /// ```
    /// use pool_cache::Cache;
    /// use pool_metrics::Registry;
    ///
    /// let cache: Cache<u64, u64> = Cache::builder(10).build()?;
    /// cache.insert(1, 1);
    /// cache.get(&1);
    /// let registry = Registry::new();
    /// cache.export_metrics(&registry, "sessions")?;
    /// cache.get(&1);
    /// cache.export_metrics(&registry, "sessions")?;
    /// assert_eq!(registry.counter("cache_hits_total", &[("cache", "sessions")])?.get(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export_metrics(&self, registry: &Registry, name: &str) -> Result<(), RegistryError> {
        let now = self.stats();
        let mut last = self.exported().lock();
        let label = [("cache", name)];
        let counters: [(&str, u64, u64); 4] = [
            ("cache_hits_total", now.hits, last.hits),
            ("cache_misses_total", now.misses, last.misses),
            ("cache_inserts_total", now.inserts, last.inserts),
            (
                "cache_admission_rejections_total",
                now.admission_rejections,
                last.admission_rejections,
            ),
        ];
        for (metric, current, before) in counters {
            registry.counter(metric, &label)?.add(current.saturating_sub(before));
        }
        let removals: [(&str, u64, u64); 5] = [
            ("size", now.evictions, last.evictions),
            ("expired", now.expirations, last.expirations),
            ("explicit", now.explicit_removals, last.explicit_removals),
            ("replaced", now.replacements, last.replacements),
            ("rejected", now.too_heavy, last.too_heavy),
        ];
        for (cause, current, before) in removals {
            registry
                .counter("cache_removals_total", &[("cache", name), ("cause", cause)])?
                .add(current.saturating_sub(before));
        }
        let gauge = |metric: &str, value: u64| -> Result<(), RegistryError> {
            registry.gauge(metric, &label)?.set(i64::try_from(value).unwrap_or(i64::MAX));
            Ok(())
        };
        gauge("cache_entries", self.len() as u64)?;
        gauge("cache_weighted_size", self.weighted_size())?;
        gauge("cache_hit_ratio_permille", (now.hit_ratio() * 1000.0).round() as u64)?;
        *last = now;
        Ok(())
    }
}

/// The snapshot last exported (so exports add deltas).
pub(crate) type Exported = crate::sync::Mutex<CacheStats>;
