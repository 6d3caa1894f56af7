//! [`NodeHealth`]: one node's probe counters, up/down flag and circuit breaker.

use super::event::HealthEventKind;
use pool_core::CircuitBreaker;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Default)]
struct Streak {
    failures: u32,
    successes: u32,
}

/// The health of one node: whether the prober counts it up, and its circuit breaker, which the
/// calls to the node report to. A node is [available](Self::is_available) when it is up and
/// its breaker permits a call.
///
/// ```
/// use pool_cluster::{HealthConfig, HealthMonitor};
///
/// let monitor = HealthMonitor::new(HealthConfig::default());
/// let node = monitor.add("redis-a")?;
/// assert!(node.is_up() && node.is_available());
/// assert_eq!(node.id(), "redis-a");
/// # Ok::<(), pool_cluster::DuplicateNodeError>(())
/// ```
pub struct NodeHealth {
    id: String,
    up: AtomicBool,
    streak: Mutex<Streak>,
    breaker: CircuitBreaker,
}

impl fmt::Debug for NodeHealth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeHealth")
            .field("id", &self.id)
            .field("up", &self.is_up())
            .field("breaker", &self.breaker.state())
            .finish()
    }
}

impl NodeHealth {
    pub(crate) fn new(id: String, breaker: CircuitBreaker) -> Self {
        Self { id, up: AtomicBool::new(true), streak: Mutex::new(Streak::default()), breaker }
    }

    /// The node's id.
    ///
    /// ```
    /// let m = pool_cluster::HealthMonitor::new(Default::default());
    /// assert_eq!(m.add("a")?.id(), "a");
    /// # Ok::<(), pool_cluster::DuplicateNodeError>(())
    /// ```
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether the prober counts the node up (it starts up).
    ///
    /// ```
    /// let m = pool_cluster::HealthMonitor::new(Default::default());
    /// assert!(m.add("a")?.is_up());
    /// # Ok::<(), pool_cluster::DuplicateNodeError>(())
    /// ```
    #[must_use]
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// Up, and its breaker would permit a call now: what the health-filtered lookup asks.
    ///
    /// ```
    /// let m = pool_cluster::HealthMonitor::new(Default::default());
    /// let n = m.add("a")?;
    /// n.breaker().force_open();
    /// assert!(n.is_up() && !n.is_available());
    /// # Ok::<(), pool_cluster::DuplicateNodeError>(())
    /// ```
    #[must_use]
    pub fn is_available(&self) -> bool {
        self.is_up() && self.breaker.is_call_permitted()
    }

    /// The node's circuit breaker; calls to the node take a permit from it and report the
    /// outcome.
    ///
    /// ```
    /// let m = pool_cluster::HealthMonitor::new(Default::default());
    /// let n = m.add("a")?;
    /// n.breaker().try_acquire().expect("closed").success();
    /// assert_eq!(n.breaker().metrics().buffered_calls, 1);
    /// # Ok::<(), pool_cluster::DuplicateNodeError>(())
    /// ```
    #[must_use]
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    /// Counts one probe outcome; returns the transition it caused, if any. Going down forces
    /// the breaker open; coming back resets it closed.
    pub(crate) fn record(
        &self,
        ok: bool,
        failure_threshold: u32,
        recovery_threshold: u32,
    ) -> Option<HealthEventKind> {
        let mut s = self.streak.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let up = self.is_up();
        if ok {
            s.failures = 0;
            s.successes = s.successes.saturating_add(1);
            if !up && s.successes >= recovery_threshold {
                self.up.store(true, Ordering::Release);
                self.breaker.reset();
                return Some(HealthEventKind::Up);
            }
        } else {
            s.successes = 0;
            s.failures = s.failures.saturating_add(1);
            if up && s.failures >= failure_threshold {
                self.up.store(false, Ordering::Release);
                self.breaker.force_open();
                return Some(HealthEventKind::Down);
            }
        }
        None
    }
}
