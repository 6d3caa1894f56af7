//! The background prober: every interval, probes each watched node (bounded by the probe
//! timeout) and records the outcomes in the [`HealthMonitor`].

use super::monitor::HealthMonitor;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// What a prober runs for one node: resolves to true when the node answered.
pub(crate) type ProbeFuture = Pin<Box<dyn Future<Output = bool> + Send + 'static>>;

/// The running prober of [`HealthMonitor::spawn_prober`]; dropping it stops the prober.
///
/// ```
/// use pool_cluster::{HealthConfig, HealthMonitor};
///
/// let rt = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
/// let monitor = HealthMonitor::new(HealthConfig::default());
/// monitor.add("a")?;
/// let prober = monitor.spawn_prober(rt.handle(), |_id| async { true });
/// assert!(!prober.is_finished());
/// drop(prober); // stops it
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "dropping the handle stops the prober"]
pub struct ProberHandle {
    task: tokio::task::JoinHandle<()>,
}

impl fmt::Debug for ProberHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProberHandle").field("finished", &self.task.is_finished()).finish()
    }
}

impl ProberHandle {
    /// Whether the prober task has ended (it only ends when stopped or its runtime shuts
    /// down).
    ///
    /// ```
    /// # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
    /// # let m = pool_cluster::HealthMonitor::new(Default::default());
    /// let prober = m.spawn_prober(rt.handle(), |_id| async { true });
    /// assert!(!prober.is_finished());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for ProberHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HealthMonitor {
    /// Spawns the prober on `runtime`: every [`interval`](super::HealthConfig::interval), all
    /// watched nodes are probed concurrently with `probe(id)`, each bounded by the
    /// [`probe_timeout`](super::HealthConfig::probe_timeout) (a probe that takes longer
    /// failed), and the outcomes are [recorded](Self::record_probe). Nodes added later are
    /// probed from the next round. The runtime needs its time driver.
    ///
    /// The interval is waited on the runtime's timer; thresholds, breakers and their waits
    /// read the configured clock, so tests drive them with
    /// [`record_probe`](Self::record_probe) and a `ManualClock` instead.
    ///
    /// ```
    /// use pool_cluster::{HealthConfig, HealthMonitor};
    /// use std::time::Duration;
    ///
    /// let rt = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
    /// let cfg = HealthConfig::builder().interval(Duration::from_millis(5)).failure_threshold(1).build()?;
    /// let monitor = HealthMonitor::new(cfg);
    /// let node = monitor.add("a")?;
    /// let _prober = monitor.spawn_prober(rt.handle(), |_id| async { false });
    /// rt.block_on(async {
    ///     for _ in 0..200 {
    ///         if !node.is_up() { break; }
    ///         tokio::time::sleep(Duration::from_millis(5)).await;
    ///     }
    /// });
    /// assert!(!node.is_up());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn_prober<F, Fut>(&self, runtime: &tokio::runtime::Handle, probe: F) -> ProberHandle
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        let monitor = self.clone();
        let task = runtime.spawn(async move {
            let interval = monitor.config().interval();
            let timeout = monitor.config().probe_timeout();
            loop {
                let ids = monitor.node_ids();
                let probes = ids.into_iter().map(|id| {
                    let fut: ProbeFuture = Box::pin(probe(id.clone()));
                    async move {
                        let ok = tokio::time::timeout(timeout, fut).await.unwrap_or(false);
                        (id, ok)
                    }
                });
                for (id, ok) in futures::future::join_all(probes).await {
                    monitor.record_probe(&id, ok);
                }
                tokio::time::sleep(interval).await;
            }
        });
        ProberHandle { task }
    }
}
