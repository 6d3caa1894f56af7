//! Hash-range sharding: the hash space cut into equal contiguous ranges, one per node.

use super::nodes;
use super::sharding::Sharding;
use crate::error::{NoNodesError, NodeError};
use crate::hash::key_hash;

/// Node `i` of `n` owns the key hashes in `[i·2^64/n, (i+1)·2^64/n)`; replicas are the next
/// ranges. Perfect balance, one multiply per lookup, and ranges that are easy to scan.
///
/// **What moves.** Every boundary shifts on a change: a join at the end moves exactly half of
/// the hash space, for every `n` (node `i` keeps `(n−i)/(n(n+1))` of it; the sum is ½); a
/// leave moves half (the first or the last node) down to about a quarter (a middle node,
/// whose neighbours on both sides each keep most of their range). That is the cost consistent
/// hashing avoids; use this strategy for fixed clusters or as the baseline in a comparison.
///
/// # Examples
///
/// ```
/// use pool_cluster::{RangeSharding, Sharding};
///
/// let ranges = RangeSharding::new(["a", "b"])?;
/// assert_eq!(ranges.owner_of_hash(0), Some(&"a"));
/// assert_eq!(ranges.owner_of_hash(u64::MAX), Some(&"b"));
/// assert_eq!(ranges.owner_of_hash(1 << 63), Some(&"b"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeSharding<N> {
    nodes: Vec<N>,
}

impl<N: AsRef<[u8]>> RangeSharding<N> {
    /// Places `nodes` in order: the first owns the lowest range.
    ///
    /// # Errors
    ///
    /// A [`NodeError`] if two nodes share an id.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(pool_cluster::RangeSharding::new(["a", "a"]).is_err());
    /// ```
    pub fn new(nodes: impl IntoIterator<Item = N>) -> Result<Self, NodeError> {
        let mut ranges = Self { nodes: Vec::new() };
        for node in nodes {
            ranges.add_node(node)?;
        }
        Ok(ranges)
    }

    /// The owner of a key whose [`key_hash`](crate::key_hash) is `hash`; `None` with no nodes.
    ///
    /// ```
    /// assert_eq!(pool_cluster::RangeSharding::<&str>::new([])?.owner_of_hash(7), None);
    /// # Ok::<(), pool_cluster::NodeError>(())
    /// ```
    #[must_use]
    pub fn owner_of_hash(&self, hash: u64) -> Option<&N> {
        self.index(hash).map(|i| &self.nodes[i])
    }

    fn index(&self, hash: u64) -> Option<usize> {
        let n = self.nodes.len() as u128;
        (n > 0).then(|| ((u128::from(hash) * n) >> 64) as usize)
    }
}

impl<N: AsRef<[u8]>> Sharding<N> for RangeSharding<N> {
    fn name(&self) -> &'static str {
        "range"
    }

    fn node_count(&self) -> usize {
        self.nodes.len()
    }

    fn owner(&self, key: &[u8]) -> Result<&N, NoNodesError> {
        self.owner_of_hash(key_hash(key)).ok_or(NoNodesError)
    }

    fn owners<'a>(
        &'a self,
        key: &[u8],
        r: usize,
        out: &mut Vec<&'a N>,
    ) -> Result<(), NoNodesError> {
        out.clear();
        if r == 0 {
            return Ok(());
        }
        let first = self.index(key_hash(key)).ok_or(NoNodesError)?;
        nodes::successors(&self.nodes, first, r, out);
        Ok(())
    }

    fn add_node(&mut self, node: N) -> Result<(), NodeError> {
        nodes::check_new(&self.nodes, &node)?;
        self.nodes.push(node);
        Ok(())
    }

    fn remove_node(&mut self, id: &[u8]) -> Result<N, NodeError> {
        let i = nodes::position(&self.nodes, id)?;
        Ok(self.nodes.remove(i))
    }
}
