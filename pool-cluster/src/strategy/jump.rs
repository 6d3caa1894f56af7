//! Jump consistent hash (Lamping and Veach, "A Fast, Minimal Memory, Consistent Hash
//! Algorithm", 2014).

use super::nodes;
use super::sharding::Sharding;
use crate::error::{NoNodesError, NodeError};
use crate::hash::key_hash;

/// The bucket in `0..buckets` of a key whose hash is `key`; `None` when `buckets` is 0.
/// Growing from `n` to `n + 1` buckets moves exactly the keys that land in bucket `n`.
///
/// ```
/// use pool_cluster::jump_hash;
///
/// assert_eq!(jump_hash(42, 1), Some(0));
/// assert_eq!(jump_hash(42, 0), None);
/// let b = jump_hash(0xdead_beef, 10).unwrap();
/// let after = jump_hash(0xdead_beef, 11).unwrap();
/// assert!(after == b || after == 10); // stays, or moves to the new bucket
/// ```
#[must_use]
pub fn jump_hash(mut key: u64, buckets: u32) -> Option<u32> {
    if buckets == 0 {
        return None;
    }
    let (mut b, mut j) = (0i64, 0i64);
    while j < i64::from(buckets) {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    Some(b as u32)
}

/// Jump consistent hash over a list of nodes: node `i` is bucket `i`. No memory beyond the
/// list and no virtual nodes; balance is exact in expectation. Replicas are the next buckets:
/// `b, b+1, ... (mod n)`.
///
/// **What moves.** A join appends a bucket and moves exactly the keys jump hash gives it
/// (`1/(n+1)` of them in expectation, the ideal), only to it. Removing the last node moves
/// only its keys. Removing another node moves the last node into its bucket (`swap_remove`),
/// so its keys and the last node's keys move: jump hash suits clusters that grow and shrink
/// at the end.
///
/// # Examples
///
/// ```
/// use pool_cluster::{JumpHash, Sharding};
///
/// let mut jump = JumpHash::new(["a", "b", "c"])?;
/// let owner = *jump.owner(b"user:42")?;
/// jump.add_node("d")?;
/// let now = *jump.owner(b"user:42")?;
/// assert!(now == owner || now == "d");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpHash<N> {
    nodes: Vec<N>,
}

impl<N: AsRef<[u8]>> JumpHash<N> {
    /// The most nodes: 2^31, where the algorithm's 31-bit arithmetic ends.
    pub const MAX_NODES: usize = 1 << 31;

    /// Places `nodes` in order: the first is bucket 0.
    ///
    /// # Errors
    ///
    /// A [`NodeError`] if two nodes share an id.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_cluster::JumpHash;
    ///
    /// assert!(JumpHash::new(["a", "a"]).is_err());
    /// assert_eq!(JumpHash::new(["a", "b"])?.nodes(), ["a", "b"]);
    /// # Ok::<(), pool_cluster::NodeError>(())
    /// ```
    pub fn new(nodes: impl IntoIterator<Item = N>) -> Result<Self, NodeError> {
        let mut jump = Self { nodes: Vec::new() };
        for node in nodes {
            jump.add_node(node)?;
        }
        Ok(jump)
    }

    /// The nodes, bucket 0 first.
    ///
    /// ```
    /// assert_eq!(pool_cluster::JumpHash::new(["x"])?.nodes(), ["x"]);
    /// # Ok::<(), pool_cluster::NodeError>(())
    /// ```
    #[must_use]
    pub fn nodes(&self) -> &[N] {
        &self.nodes
    }

    fn bucket(&self, key: &[u8]) -> Result<usize, NoNodesError> {
        jump_hash(key_hash(key), self.nodes.len() as u32).map(|b| b as usize).ok_or(NoNodesError)
    }
}

impl<N: AsRef<[u8]>> Sharding<N> for JumpHash<N> {
    fn name(&self) -> &'static str {
        "jump"
    }

    fn node_count(&self) -> usize {
        self.nodes.len()
    }

    fn owner(&self, key: &[u8]) -> Result<&N, NoNodesError> {
        Ok(&self.nodes[self.bucket(key)?])
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
        let b = self.bucket(key)?;
        nodes::successors(&self.nodes, b, r, out);
        Ok(())
    }

    fn add_node(&mut self, node: N) -> Result<(), NodeError> {
        nodes::check_new(&self.nodes, &node)?;
        if self.nodes.len() >= Self::MAX_NODES {
            return Err(NodeError::new(crate::NodeErrorKind::TooManyNodes {
                limit: Self::MAX_NODES,
            }));
        }
        self.nodes.push(node);
        Ok(())
    }

    fn remove_node(&mut self, id: &[u8]) -> Result<N, NodeError> {
        let i = nodes::position(&self.nodes, id)?;
        Ok(self.nodes.swap_remove(i))
    }
}
