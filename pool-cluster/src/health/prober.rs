//! The background prober: every interval, probes each watched node (bounded by the probe
//! timeout) and records the outcomes in the [`HealthMonitor`].

use super::monitor::HealthMonitor;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The longest the prober sleeps before looking at the clock again: 50 ms, so a probe round
/// starts at most this late and a test's `ManualClock` advance is seen within it.
///
/// ```
/// assert!(pool_cluster::PROBER_TICK <= std::time::Duration::from_millis(50));
/// ```
pub const PROBER_TICK: Duration = Duration::from_millis(50);

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
    /// Rounds fall due on the configured [clock](super::HealthConfigBuilder::clock): the
    /// task wakes at least every [`PROBER_TICK`] of real time to look at it, so with a
    /// `ManualClock` a round runs once the test advances the clock by the interval (and the
    /// first round runs at once).
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
            let clock = monitor.config().clock.clone();
            let interval_nanos = u64::try_from(interval.as_nanos()).unwrap_or(u64::MAX);
            let mut due = clock.now_nanos();
            loop {
                if clock.now_nanos() >= due {
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
                    due = clock.now_nanos().saturating_add(interval_nanos);
                }
                // Rounds are due on the configured clock; the timer only wakes the loop to
                // look at it, at least every PROBER_TICK, so a ManualClock drives it too.
                let left = Duration::from_nanos(due.saturating_sub(clock.now_nanos()));
                tokio::time::sleep(left.clamp(Duration::from_millis(1), PROBER_TICK.min(interval)))
                    .await;
            }
        });
        ProberHandle { task }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HealthConfig, ManualClock};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn rounds_fall_due_on_the_injected_clock() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("rt");
        let clock = ManualClock::new();
        let cfg = HealthConfig::builder()
            .interval(Duration::from_secs(10))
            .failure_threshold(1)
            .clock(clock.clone())
            .build()
            .expect("valid");
        let monitor = HealthMonitor::new(cfg);
        let node = monitor.add("a").expect("new id");
        let rounds = Arc::new(AtomicUsize::new(0));
        let counter = rounds.clone();
        let _prober = monitor.spawn_prober(rt.handle(), move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { false }
        });
        let wait_for = |n: usize| {
            rt.block_on(async {
                for _ in 0..200 {
                    if rounds.load(Ordering::SeqCst) >= n {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            });
            rounds.load(Ordering::SeqCst)
        };
        assert_eq!(wait_for(1), 1, "the first round runs at once");
        assert!(!node.is_up());
        // Four real ticks pass, but the manual clock does not: no round is due.
        rt.block_on(async { tokio::time::sleep(PROBER_TICK * 4).await });
        assert_eq!(rounds.load(Ordering::SeqCst), 1);
        clock.advance(Duration::from_secs(10));
        assert_eq!(wait_for(2), 2, "advancing the clock by the interval runs a round");
    }
}
