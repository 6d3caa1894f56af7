//! The ring as a [`Sharding`] strategy.

use super::sharding::Sharding;
use crate::error::{NoNodesError, NodeError};
use crate::ring::HashRing;

/// On a join the new node takes its share (about `1/(n+1)` at equal weights) from the others
/// and nothing else moves; on a leave only the node's keys move, each to the next node
/// clockwise.
///
/// ```
/// use pool_cluster::{HashRing, Sharding};
///
/// let mut ring = HashRing::new(["a", "b"])?;
/// Sharding::add_node(&mut ring, "c")?;
/// assert_eq!(ring.weight_of("c"), Some(1.0));
/// assert_eq!(ring.name(), "ring");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl<N: AsRef<[u8]>> Sharding<N> for HashRing<N> {
    fn name(&self) -> &'static str {
        "ring"
    }

    fn node_count(&self) -> usize {
        self.len()
    }

    fn owner(&self, key: &[u8]) -> Result<&N, NoNodesError> {
        self.get(key)
    }

    fn owners<'a>(
        &'a self,
        key: &[u8],
        r: usize,
        out: &mut Vec<&'a N>,
    ) -> Result<(), NoNodesError> {
        self.get_n(key, r, out)
    }

    fn add_node(&mut self, node: N) -> Result<(), NodeError> {
        self.add(node, 1.0)
    }

    fn remove_node(&mut self, id: &[u8]) -> Result<N, NodeError> {
        self.remove(id)
    }
}
