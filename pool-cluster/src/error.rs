//! Errors, one per operation: lookups on an empty placement, node changes, ring builds, and
//! bounded-load setup.

use std::fmt;

/// A node id as error messages print it: UTF-8 ids as they are, other bytes escaped.
fn show_id(id: &[u8]) -> String {
    id.escape_ascii().to_string()
}

/// A lookup found no node to place the key on: the placement has no node, or (for a ring)
/// every node has weight 0.
///
/// # Examples
///
/// ```
/// use pool_cluster::HashRing;
///
/// let ring = HashRing::<&str>::builder().build()?;
/// let err = ring.get("user:42").unwrap_err();
/// assert!(err.to_string().contains("no node"));
/// # Ok::<(), pool_cluster::RingBuildError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NoNodesError;

impl fmt::Display for NoNodesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no node to place the key on: add a node with a weight > 0")
    }
}

impl std::error::Error for NoNodesError {}

/// Why adding, removing or re-weighting a node failed. The placement is unchanged.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum NodeErrorKind {
    /// A node with the same id is already placed.
    Duplicate {
        /// The id, escaped for printing.
        id: String,
    },
    /// No node with this id is placed.
    Unknown {
        /// The id, escaped for printing.
        id: String,
    },
    /// The weight is NaN, negative or infinite.
    InvalidWeight {
        /// The weight given.
        weight: f64,
    },
    /// The weight asks for more virtual nodes than one node may have
    /// ([`HashRing::MAX_POINTS_PER_NODE`](crate::HashRing::MAX_POINTS_PER_NODE)), or the ring
    /// would exceed [`HashRing::MAX_POINTS`](crate::HashRing::MAX_POINTS) in all.
    TooManyPoints {
        /// Points the change asked for.
        requested: u64,
        /// The limit it broke.
        limit: u64,
    },
    /// The placement holds as many nodes as it can (a Redis Cluster has 16384 slots).
    TooManyNodes {
        /// The most nodes this placement can hold.
        limit: usize,
    },
}

/// Adding, removing or re-weighting a node failed; nothing changed.
///
/// # Examples
///
/// ```
/// use pool_cluster::{HashRing, NodeErrorKind};
///
/// let mut ring = HashRing::new(["a", "b"])?;
/// let err = ring.add("a", 1.0).unwrap_err();
/// assert!(matches!(err.kind(), NodeErrorKind::Duplicate { .. }));
/// assert_eq!(err.to_string(), "node a is already placed: remove it first or use another id");
/// assert_eq!(ring.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NodeError {
    kind: NodeErrorKind,
}

impl NodeError {
    pub(crate) fn new(kind: NodeErrorKind) -> Self {
        Self { kind }
    }

    pub(crate) fn duplicate(id: &[u8]) -> Self {
        Self::new(NodeErrorKind::Duplicate { id: show_id(id) })
    }

    pub(crate) fn unknown(id: &[u8]) -> Self {
        Self::new(NodeErrorKind::Unknown { id: show_id(id) })
    }

    /// What went wrong.
    ///
    /// ```
    /// use pool_cluster::{HashRing, NodeErrorKind};
    ///
    /// let mut ring = HashRing::new(["a"])?;
    /// let err = ring.add("b", f64::NAN).unwrap_err();
    /// assert!(matches!(err.kind(), NodeErrorKind::InvalidWeight { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn kind(&self) -> &NodeErrorKind {
        &self.kind
    }
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            NodeErrorKind::Duplicate { id } => {
                write!(f, "node {id} is already placed: remove it first or use another id")
            }
            NodeErrorKind::Unknown { id } => write!(f, "node {id} is not placed"),
            NodeErrorKind::InvalidWeight { weight } => {
                write!(f, "weight must be a finite number >= 0, got {weight}")
            }
            NodeErrorKind::TooManyPoints { requested, limit } => write!(
                f,
                "too many virtual nodes: {requested} requested, at most {limit}; lower the weight or the vnode count"
            ),
            NodeErrorKind::TooManyNodes { limit } => {
                write!(f, "too many nodes: this placement holds at most {limit}")
            }
        }
    }
}

impl std::error::Error for NodeError {}

/// Why [`HashRingBuilder::build`](crate::HashRingBuilder::build) refused its settings.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RingBuildErrorKind {
    /// `vnodes(0)`: every node needs at least one virtual node per unit of weight.
    ZeroVnodes,
    /// One of the initial nodes was refused (duplicate id, bad weight, too many points).
    Node(NodeError),
}

/// A [`HashRing`](crate::HashRing) could not be built from its settings.
///
/// # Examples
///
/// ```
/// use pool_cluster::{HashRing, RingBuildErrorKind};
///
/// let err = HashRing::<&str>::builder().vnodes(0).build().unwrap_err();
/// assert_eq!(err.kind(), &RingBuildErrorKind::ZeroVnodes);
/// assert_eq!(err.to_string(), "vnodes must be > 0, got 0");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RingBuildError {
    kind: RingBuildErrorKind,
}

impl RingBuildError {
    pub(crate) fn new(kind: RingBuildErrorKind) -> Self {
        Self { kind }
    }

    /// Which setting to fix.
    ///
    /// ```
    /// use pool_cluster::{HashRing, RingBuildErrorKind};
    ///
    /// let err = HashRing::builder().node("a", -1.0).build().unwrap_err();
    /// assert!(matches!(err.kind(), RingBuildErrorKind::Node(_)));
    /// ```
    #[must_use]
    pub fn kind(&self) -> &RingBuildErrorKind {
        &self.kind
    }
}

impl fmt::Display for RingBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RingBuildErrorKind::ZeroVnodes => f.write_str("vnodes must be > 0, got 0"),
            RingBuildErrorKind::Node(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RingBuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            RingBuildErrorKind::Node(e) => Some(e),
            RingBuildErrorKind::ZeroVnodes => None,
        }
    }
}

impl From<NodeError> for RingBuildError {
    fn from(e: NodeError) -> Self {
        Self::new(RingBuildErrorKind::Node(e))
    }
}

/// Why [`BoundedLoads::new`](crate::BoundedLoads::new) refused.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum BoundedLoadsErrorKind {
    /// ε must be a finite number > 0.
    InvalidEpsilon {
        /// The ε given.
        epsilon: f64,
    },
    /// The ring has no node with weight > 0.
    NoNodes,
}

/// Bounded-load assignment could not start.
///
/// # Examples
///
/// ```
/// use pool_cluster::{BoundedLoads, BoundedLoadsErrorKind, HashRing};
///
/// let ring = HashRing::new(["a", "b"])?;
/// let err = BoundedLoads::new(&ring, 0.0).unwrap_err();
/// assert!(matches!(err.kind(), BoundedLoadsErrorKind::InvalidEpsilon { .. }));
/// assert_eq!(err.to_string(), "epsilon must be a finite number > 0, got 0");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundedLoadsError {
    kind: BoundedLoadsErrorKind,
}

impl BoundedLoadsError {
    pub(crate) fn new(kind: BoundedLoadsErrorKind) -> Self {
        Self { kind }
    }

    /// What to fix.
    ///
    /// ```
    /// use pool_cluster::{BoundedLoads, BoundedLoadsErrorKind, HashRing};
    ///
    /// let ring = HashRing::<&str>::builder().build()?;
    /// let err = BoundedLoads::new(&ring, 0.25).unwrap_err();
    /// assert_eq!(err.kind(), BoundedLoadsErrorKind::NoNodes);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn kind(&self) -> BoundedLoadsErrorKind {
        self.kind
    }
}

impl fmt::Display for BoundedLoadsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            BoundedLoadsErrorKind::InvalidEpsilon { epsilon } => {
                write!(f, "epsilon must be a finite number > 0, got {epsilon}")
            }
            BoundedLoadsErrorKind::NoNodes => NoNodesError.fmt(f),
        }
    }
}

impl std::error::Error for BoundedLoadsError {}
