//! Building a [`HashRing`]: the vnode count and the initial weighted nodes.

use super::hash_ring::HashRing;
use crate::error::{RingBuildError, RingBuildErrorKind};

/// Settings for a [`HashRing`], validated in [`build`](Self::build).
///
/// # Examples
///
/// ```
/// use pool_cluster::HashRing;
///
/// let ring = HashRing::builder()
///     .vnodes(200)
///     .nodes(["a", "b"])          // weight 1 each
///     .node("big", 2.0)           // 400 points
///     .node("drained", 0.0)       // placed, owns nothing
///     .build()?;
/// assert_eq!(ring.total_points(), 800);
/// # Ok::<(), pool_cluster::RingBuildError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct HashRingBuilder<N> {
    vnodes: u32,
    nodes: Vec<(N, f64)>,
}

impl<N: AsRef<[u8]>> Default for HashRingBuilder<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<N: AsRef<[u8]>> HashRingBuilder<N> {
    /// No nodes, [`HashRing::DEFAULT_VNODES`] per unit of weight.
    ///
    /// ```
    /// let ring = pool_cluster::HashRingBuilder::<String>::new().build()?;
    /// assert!(ring.is_empty());
    /// # Ok::<(), pool_cluster::RingBuildError>(())
    /// ```
    pub fn new() -> Self {
        Self { vnodes: HashRing::<N>::DEFAULT_VNODES, nodes: Vec::new() }
    }

    /// Virtual nodes per unit of weight (must be > 0).
    ///
    /// ```
    /// let ring = pool_cluster::HashRing::builder().vnodes(8).node("a", 1.0).build()?;
    /// assert_eq!(ring.total_points(), 8);
    /// # Ok::<(), pool_cluster::RingBuildError>(())
    /// ```
    pub fn vnodes(mut self, vnodes: u32) -> Self {
        self.vnodes = vnodes;
        self
    }

    /// Adds `node` with `weight` (checked in `build`).
    ///
    /// ```
    /// let ring = pool_cluster::HashRing::builder().node("a", 3.0).build()?;
    /// assert_eq!(ring.weight_of("a"), Some(3.0));
    /// # Ok::<(), pool_cluster::RingBuildError>(())
    /// ```
    pub fn node(mut self, node: N, weight: f64) -> Self {
        self.nodes.push((node, weight));
        self
    }

    /// Adds each of `nodes` with weight 1.
    ///
    /// ```
    /// let ring = pool_cluster::HashRing::builder().nodes(["a", "b", "c"]).build()?;
    /// assert_eq!(ring.len(), 3);
    /// # Ok::<(), pool_cluster::RingBuildError>(())
    /// ```
    pub fn nodes(mut self, nodes: impl IntoIterator<Item = N>) -> Self {
        self.nodes.extend(nodes.into_iter().map(|n| (n, 1.0)));
        self
    }

    /// Builds the ring. The result depends only on the settings, not on the order of the
    /// nodes.
    ///
    /// # Errors
    ///
    /// A [`RingBuildError`]: [`ZeroVnodes`](RingBuildErrorKind::ZeroVnodes), or
    /// [`Node`](RingBuildErrorKind::Node) for a duplicate id, a NaN, negative or infinite
    /// weight, or too many points.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_cluster::{HashRing, NodeErrorKind, RingBuildErrorKind};
    ///
    /// let err = HashRing::builder().node("a", 1.0).node("a", 2.0).build().unwrap_err();
    /// assert!(matches!(err.kind(), RingBuildErrorKind::Node(e) if matches!(e.kind(), NodeErrorKind::Duplicate { .. })));
    /// ```
    pub fn build(self) -> Result<HashRing<N>, RingBuildError> {
        if self.vnodes == 0 {
            return Err(RingBuildError::new(RingBuildErrorKind::ZeroVnodes));
        }
        Ok(HashRing::from_parts(self.vnodes, self.nodes)?)
    }
}
