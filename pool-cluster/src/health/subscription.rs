//! [`Subscription`]: the guard that keeps a health listener registered.

use super::monitor::MonitorInner;
use std::fmt;
use std::sync::Weak;

/// Keeps a listener given to [`HealthMonitor::subscribe`](super::HealthMonitor::subscribe)
/// registered; dropping it unsubscribes (an event being delivered at that moment may still
/// reach the listener once).
///
/// ```
/// use pool_cluster::{HealthConfig, HealthMonitor};
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
///
/// let monitor = HealthMonitor::new(HealthConfig::default());
/// let seen = Arc::new(AtomicUsize::new(0));
/// let counter = seen.clone();
/// let sub = monitor.subscribe(move |_| {
///     counter.fetch_add(1, Ordering::Relaxed);
/// });
/// monitor.add("a")?;
/// drop(sub);
/// monitor.add("b")?;
/// assert_eq!(seen.load(Ordering::Relaxed), 1);
/// # Ok::<(), pool_cluster::DuplicateNodeError>(())
/// ```
#[must_use = "dropping the subscription unsubscribes at once"]
pub struct Subscription {
    pub(super) monitor: Weak<MonitorInner>,
    pub(super) id: u64,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription").field("id", &self.id).finish()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(inner) = self.monitor.upgrade() {
            inner.unsubscribe(self.id);
        }
    }
}
