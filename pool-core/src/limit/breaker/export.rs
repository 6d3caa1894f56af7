//! Publishing a breaker's state and counts to a `pool_metrics::Registry`.

use pool_metrics::{Registry, RegistryError};

use super::circuit::CircuitBreaker;
use super::state::CircuitState;
use crate::sync::{Ordering, lock};

/// The counters last exported (so exports add deltas).
#[derive(Debug, Default)]
pub(crate) struct Exported {
    not_permitted: u64,
    transitions: [u64; 3],
}

impl CircuitBreaker {
    /// Publishes the breaker to `registry` under the label `breaker=<name>`: the counters
    /// `circuit_breaker_not_permitted_total` and
    /// `circuit_breaker_transitions_total{to=closed|open|half_open}`, and the gauges
    /// `circuit_breaker_state` (0 closed, 1 open, 2 half-open), `circuit_breaker_buffered_calls`,
    /// `circuit_breaker_failed_calls`, `circuit_breaker_slow_calls` and
    /// `circuit_breaker_failure_rate_permille` (-1 while the window holds fewer than
    /// `minimum_calls`).
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
    /// use pool_core::CircuitBreaker;
    /// use pool_metrics::Registry;
    ///
    /// let breaker = CircuitBreaker::new();
    /// let registry = Registry::new();
    /// breaker.force_open();
    /// assert!(breaker.try_acquire().is_err());
    /// breaker.export_metrics(&registry, "db")?;
    /// let label = [("breaker", "db")];
    /// assert_eq!(registry.counter("circuit_breaker_not_permitted_total", &label)?.get(), 1);
    /// assert_eq!(registry.gauge("circuit_breaker_state", &label)?.get(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export_metrics(&self, registry: &Registry, name: &str) -> Result<(), RegistryError> {
        let m = self.metrics();
        let transitions: [u64; 3] =
            std::array::from_fn(|i| self.inner.transitions[i].load(Ordering::Relaxed));
        let mut last = lock(&self.inner.exported);
        let label = [("breaker", name)];
        registry
            .counter("circuit_breaker_not_permitted_total", &label)?
            .add(m.not_permitted_calls.saturating_sub(last.not_permitted));
        for (i, to) in ["closed", "open", "half_open"].into_iter().enumerate() {
            registry
                .counter("circuit_breaker_transitions_total", &[("breaker", name), ("to", to)])?
                .add(transitions[i].saturating_sub(last.transitions[i]));
        }
        let gauge = |metric: &str, value: i64| -> Result<(), RegistryError> {
            registry.gauge(metric, &label)?.set(value);
            Ok(())
        };
        let state = match m.state {
            CircuitState::Closed => 0,
            CircuitState::Open => 1,
            CircuitState::HalfOpen => 2,
        };
        let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        gauge("circuit_breaker_state", state)?;
        gauge("circuit_breaker_buffered_calls", clamp(m.buffered_calls))?;
        gauge("circuit_breaker_failed_calls", clamp(m.failed_calls))?;
        gauge("circuit_breaker_slow_calls", clamp(m.slow_calls))?;
        gauge(
            "circuit_breaker_failure_rate_permille",
            m.failure_rate.map_or(-1, |r| (r * 10.0).round() as i64),
        )?;
        last.not_permitted = m.not_permitted_calls;
        last.transitions = transitions;
        Ok(())
    }
}
