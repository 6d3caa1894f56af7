//! [`HealthMonitor`]: the watched nodes, their probe outcomes, and the subscribers told of
//! every change.

use super::config::HealthConfig;
use super::error::DuplicateNodeError;
use super::event::{HealthEvent, HealthEventKind};
use super::node::NodeHealth;
use super::subscription::Subscription;
use crate::HashRing;
use crate::error::NoNodesError;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

type Listener = Arc<dyn Fn(&HealthEvent) + Send + Sync>;

pub(crate) struct MonitorInner {
    config: HealthConfig,
    nodes: RwLock<HashMap<String, Arc<NodeHealth>>>,
    listeners: Mutex<Vec<(u64, Listener)>>,
    next_listener: AtomicU64,
}

impl MonitorInner {
    pub(super) fn unsubscribe(&self, id: u64) {
        self.listeners.lock().unwrap_or_else(PoisonError::into_inner).retain(|(i, _)| *i != id);
    }
}

/// Watches a set of nodes: counts probe outcomes against the failure and recovery thresholds,
/// keeps a circuit breaker per node, and tells subscribers of every change (up, down, added,
/// removed). Listeners run on the thread that caused the change, after every lock of the
/// monitor is released, so a listener may call back into the monitor.
///
/// Clones share the same nodes and subscribers.
///
/// ```
/// use pool_cluster::{HealthConfig, HealthEventKind, HealthMonitor, HashRing};
/// use std::sync::{Arc, Mutex};
///
/// let monitor = HealthMonitor::new(HealthConfig::builder().failure_threshold(2).build()?);
/// let events = Arc::new(Mutex::new(Vec::new()));
/// let log = events.clone();
/// let _sub = monitor.subscribe(move |e| log.lock().unwrap().push(e.kind));
/// for id in ["a", "b", "c"] {
///     monitor.add(id)?;
/// }
/// let ring = HashRing::new(["a", "b", "c"])?;
/// let mut all = Vec::new();
/// ring.get_n("user:7", 3, &mut all)?;
///
/// monitor.record_probe(all[0], false);
/// monitor.record_probe(all[0], false); // second failure in a row: down
/// let mut healthy = Vec::new();
/// monitor.get_n_healthy(&ring, "user:7", 2, &mut healthy)?;
/// assert_eq!(healthy, all[1..]); // only the down node's keys re-route
/// assert_eq!(events.lock().unwrap().last(), Some(&HealthEventKind::Down));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct HealthMonitor {
    pub(super) inner: Arc<MonitorInner>,
}

impl fmt::Debug for HealthMonitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthMonitor")
            .field("config", &self.inner.config)
            .field("nodes", &self.node_ids())
            .finish()
    }
}

impl HealthMonitor {
    /// A monitor with no nodes.
    ///
    /// ```
    /// let m = pool_cluster::HealthMonitor::new(pool_cluster::HealthConfig::default());
    /// assert!(m.node_ids().is_empty());
    /// ```
    #[must_use]
    pub fn new(config: HealthConfig) -> Self {
        Self {
            inner: Arc::new(MonitorInner {
                config,
                nodes: RwLock::new(HashMap::new()),
                listeners: Mutex::new(Vec::new()),
                next_listener: AtomicU64::new(0),
            }),
        }
    }

    /// The settings.
    ///
    /// ```
    /// let m = pool_cluster::HealthMonitor::new(Default::default());
    /// assert_eq!(m.config().failure_threshold(), 2);
    /// ```
    #[must_use]
    pub fn config(&self) -> &HealthConfig {
        &self.inner.config
    }

    /// Starts watching `id` (up, with a closed breaker) and tells subscribers
    /// ([`HealthEventKind::Added`]).
    ///
    /// # Errors
    ///
    /// [`DuplicateNodeError`] if `id` is already watched; nothing changes.
    ///
    /// ```
    /// let m = pool_cluster::HealthMonitor::new(Default::default());
    /// assert!(m.add("a").is_ok() && m.add("a").is_err());
    /// ```
    pub fn add(&self, id: impl Into<String>) -> Result<Arc<NodeHealth>, DuplicateNodeError> {
        let id = id.into();
        // Every HealthConfig comes from Default or a validated build(), so the breaker builds;
        // the default breaker is only a fallback that cannot be reached.
        let breaker = self.inner.config.breaker().unwrap_or_default();
        let node = Arc::new(NodeHealth::new(id.clone(), breaker));
        {
            let mut nodes = self.inner.nodes.write().unwrap_or_else(PoisonError::into_inner);
            if nodes.contains_key(&id) {
                return Err(DuplicateNodeError { id });
            }
            nodes.insert(id.clone(), node.clone());
        }
        self.emit(HealthEvent { node: id, kind: HealthEventKind::Added });
        Ok(node)
    }

    /// Stops watching `id`; tells subscribers ([`HealthEventKind::Removed`]) if it was watched.
    ///
    /// ```
    /// let m = pool_cluster::HealthMonitor::new(Default::default());
    /// m.add("a")?;
    /// assert!(m.remove("a").is_some() && m.remove("a").is_none());
    /// # Ok::<(), pool_cluster::DuplicateNodeError>(())
    /// ```
    pub fn remove(&self, id: &str) -> Option<Arc<NodeHealth>> {
        let removed = self.inner.nodes.write().unwrap_or_else(PoisonError::into_inner).remove(id);
        if removed.is_some() {
            self.emit(HealthEvent { node: id.to_owned(), kind: HealthEventKind::Removed });
        }
        removed
    }

    /// The health of `id`, if watched.
    ///
    /// ```
    /// let m = pool_cluster::HealthMonitor::new(Default::default());
    /// m.add("a")?;
    /// assert!(m.node("a").is_some() && m.node("b").is_none());
    /// # Ok::<(), pool_cluster::DuplicateNodeError>(())
    /// ```
    #[must_use]
    pub fn node(&self, id: &str) -> Option<Arc<NodeHealth>> {
        self.inner.nodes.read().unwrap_or_else(PoisonError::into_inner).get(id).cloned()
    }

    /// The watched ids, sorted.
    ///
    /// ```
    /// let m = pool_cluster::HealthMonitor::new(Default::default());
    /// m.add("b")?;
    /// m.add("a")?;
    /// assert_eq!(m.node_ids(), ["a", "b"]);
    /// # Ok::<(), pool_cluster::DuplicateNodeError>(())
    /// ```
    #[must_use]
    pub fn node_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .inner
            .nodes
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Whether `id` is watched and [available](NodeHealth::is_available) (up, breaker permits).
    ///
    /// ```
    /// let m = pool_cluster::HealthMonitor::new(Default::default());
    /// m.add("a")?;
    /// assert!(m.is_available("a") && !m.is_available("zz"));
    /// # Ok::<(), pool_cluster::DuplicateNodeError>(())
    /// ```
    #[must_use]
    pub fn is_available(&self, id: &str) -> bool {
        self.node(id).is_some_and(|n| n.is_available())
    }

    /// Counts one probe outcome of `id` (unknown ids are ignored). `failure_threshold`
    /// failures in a row mark it down and force its breaker open; `recovery_threshold`
    /// successes in a row bring it back with a closed breaker. Subscribers hear of a change
    /// after the locks are released.
    ///
    /// ```
    /// use pool_cluster::{HealthConfig, HealthMonitor};
    ///
    /// let m = HealthMonitor::new(HealthConfig::builder().failure_threshold(1).recovery_threshold(2).build()?);
    /// let a = m.add("a")?;
    /// m.record_probe("a", false);
    /// assert!(!a.is_up());
    /// m.record_probe("a", true);
    /// assert!(!a.is_up()); // one success is not enough
    /// m.record_probe("a", true);
    /// assert!(a.is_up() && a.is_available());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn record_probe(&self, id: &str, ok: bool) {
        let Some(node) = self.node(id) else { return };
        let c = &self.inner.config;
        if let Some(kind) = node.record(ok, c.failure_threshold, c.recovery_threshold) {
            self.emit(HealthEvent { node: id.to_owned(), kind });
        }
    }

    /// Calls `listener` with every later change. The listener runs outside the monitor's
    /// locks; keep it short (it runs on the prober's or the caller's thread). Dropping the
    /// returned [`Subscription`] unsubscribes.
    ///
    /// ```
    /// use pool_cluster::{HealthEventKind, HealthMonitor};
    /// use std::sync::{Arc, Mutex};
    ///
    /// let m = HealthMonitor::new(Default::default());
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let log = seen.clone();
    /// let _sub = m.subscribe(move |e| log.lock().unwrap().push((e.node.clone(), e.kind)));
    /// m.add("a")?;
    /// m.remove("a");
    /// assert_eq!(
    ///     *seen.lock().unwrap(),
    ///     [("a".to_string(), HealthEventKind::Added), ("a".to_string(), HealthEventKind::Removed)]
    /// );
    /// # Ok::<(), pool_cluster::DuplicateNodeError>(())
    /// ```
    pub fn subscribe(
        &self,
        listener: impl Fn(&HealthEvent) + Send + Sync + 'static,
    ) -> Subscription {
        let id = self.inner.next_listener.fetch_add(1, Ordering::Relaxed);
        self.inner
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((id, Arc::new(listener)));
        Subscription { monitor: Arc::downgrade(&self.inner), id }
    }

    /// Up to `r` distinct nodes for `key`, in ring order, skipping the nodes that are not
    /// available (a node the ring has but the monitor does not watch counts as available):
    /// [`HashRing::get_n_filtered`] with health as the filter. Keys whose owners are all up
    /// get exactly the ring's pure `get_n`; only a down node's keys move, each to the next
    /// available node clockwise.
    ///
    /// # Errors
    ///
    /// [`NoNodesError`] if the ring has no node with weight > 0 (and `r > 0`). Fewer than `r`
    /// nodes (possibly none) come back when fewer are available.
    ///
    /// ```
    /// use pool_cluster::{HashRing, HealthMonitor};
    ///
    /// let m = HealthMonitor::new(Default::default());
    /// let ring = HashRing::new(["a", "b"])?;
    /// let mut out = Vec::new();
    /// m.get_n_healthy(&ring, "k", 1, &mut out)?;
    /// assert_eq!(out, [ring.get("k")?]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_n_healthy<'a, N: AsRef<[u8]>, K: AsRef<[u8]> + ?Sized>(
        &self,
        ring: &'a HashRing<N>,
        key: &K,
        r: usize,
        out: &mut Vec<&'a N>,
    ) -> Result<(), NoNodesError> {
        let nodes = self.inner.nodes.read().unwrap_or_else(PoisonError::into_inner);
        ring.get_n_filtered(key, r, out, |n| {
            std::str::from_utf8(n.as_ref())
                .ok()
                .and_then(|id| nodes.get(id))
                .is_none_or(|h| h.is_available())
        })
    }

    fn emit(&self, event: HealthEvent) {
        // Copy the listeners out, so none runs under the lock (a listener may subscribe,
        // unsubscribe or record a probe without deadlocking).
        let listeners: Vec<Listener> = self
            .inner
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(_, l)| l.clone())
            .collect();
        for l in listeners {
            l(&event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;
    use std::time::Duration;

    fn monitor(clock: &ManualClock) -> HealthMonitor {
        let cfg = HealthConfig::builder()
            .failure_threshold(3)
            .recovery_threshold(2)
            .breaker_wait(Duration::from_secs(1))
            .clock(clock.clone())
            .build()
            .expect("valid config");
        HealthMonitor::new(cfg)
    }

    #[test]
    fn thresholds_and_breaker_follow_the_probes() {
        let clock = ManualClock::new();
        let m = monitor(&clock);
        let a = m.add("a").expect("new id");
        let events = Arc::new(Mutex::new(Vec::new()));
        let log = events.clone();
        let _sub = m.subscribe(move |e| log.lock().expect("log").push(e.kind));
        m.record_probe("a", false);
        m.record_probe("a", false);
        m.record_probe("a", true); // resets the failure streak
        m.record_probe("a", false);
        m.record_probe("a", false);
        assert!(a.is_up(), "two failures in a row are under the threshold of 3");
        m.record_probe("a", false);
        assert!(!a.is_up() && !a.is_available());
        assert_eq!(a.breaker().state(), pool_core::CircuitState::Open);
        // The breaker's wait passes on the manual clock, but the prober still says down.
        clock.advance(Duration::from_secs(2));
        assert!(a.breaker().is_call_permitted());
        assert!(!a.is_available());
        m.record_probe("a", true);
        assert!(!a.is_up());
        m.record_probe("a", true);
        assert!(a.is_up() && a.is_available());
        assert_eq!(a.breaker().state(), pool_core::CircuitState::Closed);
        assert_eq!(*events.lock().expect("log"), [HealthEventKind::Down, HealthEventKind::Up]);
    }

    #[test]
    fn listeners_run_outside_the_locks() {
        let m = monitor(&ManualClock::new());
        let inner = m.clone();
        let nested = Arc::new(Mutex::new(Vec::new()));
        let keep = nested.clone();
        // Re-entering the monitor from a listener would deadlock if it ran under a lock.
        let _sub = m.subscribe(move |e| {
            let ids = inner.node_ids();
            let sub = inner.subscribe(|_| {});
            drop(sub);
            keep.lock().expect("log").push((e.kind, ids.len()));
        });
        m.add("a").expect("new id");
        m.remove("a");
        assert_eq!(
            *nested.lock().expect("log"),
            [(HealthEventKind::Added, 1), (HealthEventKind::Removed, 0)]
        );
    }

    #[test]
    fn only_a_down_nodes_keys_reroute() {
        let ids = ["n0", "n1", "n2", "n3", "n4"];
        let m = monitor(&ManualClock::new());
        for id in ids {
            m.add(id).expect("new id");
        }
        for _ in 0..3 {
            m.record_probe("n2", false);
        }
        let ring = HashRing::new(ids).expect("distinct ids");
        let (mut pure, mut healthy) = (Vec::new(), Vec::new());
        let mut rerouted = 0;
        for i in 0..5000 {
            let key = format!("key:{i}");
            ring.get_n(&key, 2, &mut pure).expect("nodes");
            m.get_n_healthy(&ring, &key, 2, &mut healthy).expect("nodes");
            assert!(!healthy.contains(&&"n2"));
            if pure.contains(&&"n2") {
                rerouted += 1;
                let kept: Vec<_> = pure.iter().filter(|n| ***n != "n2").collect();
                assert_eq!(healthy.iter().take(kept.len()).collect::<Vec<_>>(), kept);
            } else {
                assert_eq!(healthy, pure, "a key not owned by the down node must not move");
            }
        }
        assert!(rerouted > 0);
    }
}
