//! Rendezvous (highest random weight) hashing (Thaler and Ravishankar, 1998).

use super::sharding::Sharding;
use crate::error::{NoNodesError, NodeError};
use crate::hash::{key_hash, mix64, node_seed};

/// Rendezvous hashing: each node scores each key (a mix of the key's hash with the node's
/// blake3-derived seed) and the highest score owns it; replicas are the next highest. Ties go
/// to the smaller id. A lookup costs one score per node, so it suits tens of nodes, not
/// thousands.
///
/// **What moves.** A join moves to the new node the keys it outscores everyone on (≈ 1/(n+1)),
/// only to it; a leave moves only the node's keys, each to its second choice.
///
/// # Examples
///
/// ```
/// use pool_cluster::{Rendezvous, Sharding};
///
/// let mut hrw = Rendezvous::new(["a", "b", "c"])?;
/// let owner = *hrw.owner(b"user:42")?;
/// hrw.remove_node(b"b")?;
/// if owner != "b" {
///     assert_eq!(*hrw.owner(b"user:42")?, owner); // only b's keys moved
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendezvous<N> {
    /// Sorted by id, so ties go to the smaller id whatever the insertion order.
    nodes: Vec<(N, u64)>,
}

impl<N: AsRef<[u8]>> Rendezvous<N> {
    /// Places `nodes`.
    ///
    /// # Errors
    ///
    /// A [`NodeError`] if two nodes share an id.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(pool_cluster::Rendezvous::new(["a", "a"]).is_err());
    /// ```
    pub fn new(nodes: impl IntoIterator<Item = N>) -> Result<Self, NodeError> {
        let mut hrw = Self { nodes: Vec::new() };
        for node in nodes {
            hrw.add_node(node)?;
        }
        Ok(hrw)
    }

    fn score(hash: u64, seed: u64) -> u64 {
        mix64(hash ^ seed)
    }
}

impl<N: AsRef<[u8]>> Sharding<N> for Rendezvous<N> {
    fn name(&self) -> &'static str {
        "rendezvous"
    }

    fn node_count(&self) -> usize {
        self.nodes.len()
    }

    fn owner(&self, key: &[u8]) -> Result<&N, NoNodesError> {
        let h = key_hash(key);
        // max_by_key keeps the last maximum; iterate in reverse so ties go to the smaller id.
        self.nodes
            .iter()
            .rev()
            .max_by_key(|(_, seed)| Self::score(h, *seed))
            .map(|(n, _)| n)
            .ok_or(NoNodesError)
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
        if self.nodes.is_empty() {
            return Err(NoNodesError);
        }
        let h = key_hash(key);
        // r passes, each taking the best (score, smaller index) below the previous pick:
        // O(n·r) and no allocation beyond `out`.
        let mut bound: Option<(u64, std::cmp::Reverse<usize>)> = None;
        for _ in 0..r.min(self.nodes.len()) {
            let best = self
                .nodes
                .iter()
                .enumerate()
                .map(|(i, (_, seed))| (Self::score(h, *seed), std::cmp::Reverse(i)))
                .filter(|c| bound.is_none_or(|b| *c < b))
                .max();
            let Some(best) = best else { break };
            out.push(&self.nodes[best.1.0].0);
            bound = Some(best);
        }
        Ok(())
    }

    fn add_node(&mut self, node: N) -> Result<(), NodeError> {
        match self.nodes.binary_search_by(|(n, _)| n.as_ref().cmp(node.as_ref())) {
            Ok(_) => Err(NodeError::duplicate(node.as_ref())),
            Err(i) => {
                let seed = node_seed(node.as_ref());
                self.nodes.insert(i, (node, seed));
                Ok(())
            }
        }
    }

    fn remove_node(&mut self, id: &[u8]) -> Result<N, NodeError> {
        let i = self
            .nodes
            .binary_search_by(|(n, _)| n.as_ref().cmp(id))
            .map_err(|_| NodeError::unknown(id))?;
        Ok(self.nodes.remove(i).0)
    }
}
