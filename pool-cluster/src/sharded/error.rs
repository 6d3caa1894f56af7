//! Errors of [`ShardedL2`](super::ShardedL2): a refused build and a refused topology change.

use std::fmt;

/// Why a [`ShardedL2Builder`](super::ShardedL2Builder) refused to build.
///
/// ```
/// use pool_cluster::{ShardedL2, ShardedL2BuildErrorKind};
///
/// let err = ShardedL2::builder().build().unwrap_err();
/// assert_eq!(err.kind(), &ShardedL2BuildErrorKind::NoNodes);
/// assert_eq!(err.to_string(), "a sharded l2 needs at least one node: call node() or redis_node()");
/// ```
#[derive(Debug)]
pub struct ShardedL2BuildError {
    kind: ShardedL2BuildErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// The kind of a [`ShardedL2BuildError`].
///
/// ```
/// use pool_cluster::ShardedL2BuildErrorKind;
/// let k = ShardedL2BuildErrorKind::TooManyReplicas { replicas: 4, nodes: 3 };
/// assert_ne!(k, ShardedL2BuildErrorKind::ZeroReplicas);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShardedL2BuildErrorKind {
    /// No node was given.
    NoNodes,
    /// A replication factor of zero.
    ZeroReplicas,
    /// A replication factor above the number of nodes.
    TooManyReplicas {
        /// The factor asked for.
        replicas: usize,
        /// The nodes given.
        nodes: usize,
    },
    /// Two nodes with the same id.
    DuplicateNode {
        /// The id given twice.
        id: String,
    },
    /// A node URL that does not parse (or asks for TLS that is not built in).
    InvalidUrl {
        /// The URL given.
        url: String,
    },
    /// A call timeout of zero.
    ZeroDuration,
    /// The ring refused the settings (for example a vnode count of zero).
    Ring,
}

impl ShardedL2BuildError {
    pub(crate) fn new(kind: ShardedL2BuildErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), source: None }
    }

    pub(crate) fn with_source(
        kind: ShardedL2BuildErrorKind,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self { kind, message: message.into(), source: Some(Box::new(source)) }
    }

    /// What was wrong.
    ///
    /// ```
    /// use pool_cluster::{ShardedL2, ShardedL2BuildErrorKind};
    /// let err = ShardedL2::builder().redis_node("not a url").build().unwrap_err();
    /// assert!(matches!(err.kind(), ShardedL2BuildErrorKind::InvalidUrl { .. }));
    /// ```
    #[must_use]
    pub fn kind(&self) -> &ShardedL2BuildErrorKind {
        &self.kind
    }
}

impl fmt::Display for ShardedL2BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ShardedL2BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// Why adding or removing a node of a running [`ShardedL2`](super::ShardedL2) failed; the
/// topology is unchanged.
///
/// ```
/// use pool_cluster::{ShardedL2, TopologyErrorKind};
/// use pool_cache::MemoryL2;
///
/// let l2 = ShardedL2::builder().node("a", MemoryL2::new(1 << 20)?).build()?;
/// let err = l2.remove_node("zz").unwrap_err();
/// assert!(matches!(err.kind(), TopologyErrorKind::UnknownNode { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyError {
    kind: TopologyErrorKind,
}

/// The kind of a [`TopologyError`].
///
/// ```
/// use pool_cache::MemoryL2;
/// use pool_cluster::{ShardedL2, TopologyErrorKind};
///
/// let l2 = ShardedL2::builder().node("a", MemoryL2::new(1 << 20)?).build()?;
/// let err = l2.remove_node("a").unwrap_err(); // the last node cannot go
/// assert!(matches!(err.kind(), TopologyErrorKind::LastNodes));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TopologyErrorKind {
    /// A node with this id is already placed.
    DuplicateNode {
        /// The id.
        id: String,
    },
    /// No node with this id is placed.
    UnknownNode {
        /// The id.
        id: String,
    },
    /// Removing the node would leave fewer nodes than the replication factor.
    LastNodes,
}

impl TopologyError {
    pub(crate) fn new(kind: TopologyErrorKind) -> Self {
        Self { kind }
    }

    /// What was wrong.
    ///
    /// ```
    /// use pool_cluster::{ShardedL2, TopologyErrorKind};
    /// use pool_cache::MemoryL2;
    /// let l2 = ShardedL2::builder().node("a", MemoryL2::new(1 << 20)?).build()?;
    /// assert_eq!(l2.remove_node("a").unwrap_err().kind(), &TopologyErrorKind::LastNodes);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn kind(&self) -> &TopologyErrorKind {
        &self.kind
    }
}

impl fmt::Display for TopologyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            TopologyErrorKind::DuplicateNode { id } => {
                write!(f, "node {id} is already placed: remove it first or use another id")
            }
            TopologyErrorKind::UnknownNode { id } => write!(f, "no node {id} is placed"),
            TopologyErrorKind::LastNodes => f.write_str(
                "removing the node would leave fewer nodes than the replication factor; add one first",
            ),
        }
    }
}

impl std::error::Error for TopologyError {}
