//! The [`Sharding`] trait: what every placement strategy offers.

use crate::error::{NoNodesError, NodeError};

/// A placement of keys on nodes. Keys are bytes; node ids are the bytes of `N::as_ref()`.
///
/// Each implementation documents what moves when a node joins or leaves:
///
/// | strategy | on a join | on a leave |
/// |---|---|---|
/// | [`HashRing`](crate::HashRing) | the new node's share (≈ 1/(n+1)), only to it | the node's share, only from it |
/// | [`JumpHash`](crate::JumpHash) | the new bucket's keys, 1/(n+1) in expectation, only to it | the last node: its keys only; another: its keys and the last node's |
/// | [`Rendezvous`](crate::Rendezvous) | ≈ 1/(n+1), only to it | its keys only |
/// | [`RedisSlots`](crate::RedisSlots) | whole slots, ≈ 1/(n+1), only to it | its slots only |
/// | [`RangeSharding`](crate::RangeSharding) | half of the hash space | a quarter (a middle node) to a half (an end node) |
/// | [`RandomPlacement`](crate::RandomPlacement) | no placement: every call draws anew | the same |
///
/// # Examples
///
/// ```
/// use pool_cluster::{HashRing, JumpHash, Rendezvous, Sharding};
///
/// let nodes = ["a", "b", "c"];
/// let strategies: Vec<Box<dyn Sharding<&str>>> = vec![
///     Box::new(HashRing::new(nodes)?),
///     Box::new(JumpHash::new(nodes)?),
///     Box::new(Rendezvous::new(nodes)?),
/// ];
/// let mut out = Vec::new();
/// for s in &strategies {
///     s.owners(b"user:42", 2, &mut out)?;
///     assert_eq!(out.len(), 2);
///     assert_eq!(out[0], s.owner(b"user:42")?);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Sharding<N> {
    /// A short name for reports ("ring", "jump", ...).
    fn name(&self) -> &'static str;

    /// Nodes placed.
    fn node_count(&self) -> usize;

    /// The node that owns `key`.
    ///
    /// # Errors
    ///
    /// [`NoNodesError`] if there is no node to own it.
    fn owner(&self, key: &[u8]) -> Result<&N, NoNodesError>;

    /// Clears `out` and fills it with up to `r` distinct nodes for `key`, the owner first; all
    /// nodes when `r` exceeds their number.
    ///
    /// # Errors
    ///
    /// [`NoNodesError`] if there is no node and `r > 0`.
    fn owners<'a>(&'a self, key: &[u8], r: usize, out: &mut Vec<&'a N>)
    -> Result<(), NoNodesError>;

    /// Adds `node` (weight 1 where the strategy has weights).
    ///
    /// # Errors
    ///
    /// A [`NodeError`] (and nothing changed) for a duplicate id or a full placement.
    fn add_node(&mut self, node: N) -> Result<(), NodeError>;

    /// Removes the node with id `id` and returns it.
    ///
    /// # Errors
    ///
    /// A [`NodeError`] (and nothing changed) if no such node is placed.
    fn remove_node(&mut self, id: &[u8]) -> Result<N, NodeError>;
}
