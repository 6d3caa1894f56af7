//! [`HealthEvent`]: what subscribers of a [`HealthMonitor`](super::HealthMonitor) are told.

/// What changed about a node.
///
/// ```
/// use pool_cluster::HealthEventKind;
///
/// // A subscriber typically reacts to the two transitions and ignores the rest.
/// fn reaction(kind: HealthEventKind) -> Option<&'static str> {
///     match kind {
///         HealthEventKind::Down => Some("drain its connections"),
///         HealthEventKind::Up => Some("warm it up"),
///         _ => None,
///     }
/// }
/// # let _ = reaction;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HealthEventKind {
    /// The node answered `recovery_threshold` probes in a row after being down.
    Up,
    /// The node failed `failure_threshold` probes in a row; its breaker was forced open.
    Down,
    /// The node started being watched (it starts up).
    Added,
    /// The node stopped being watched.
    Removed,
}

/// A change of one node, delivered to every subscriber after the monitor's locks are released.
///
/// ```
/// use pool_cluster::{HealthEvent, HealthEventKind};
///
/// let e = HealthEvent { node: "redis-a".into(), kind: HealthEventKind::Down };
/// assert_eq!(e.node, "redis-a");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HealthEvent {
    /// The node's id.
    pub node: String,
    /// What happened.
    pub kind: HealthEventKind,
}
