//! Random placement with a replication factor: for stateless work, not for stored data.

use super::nodes;
use super::sharding::Sharding;
use crate::error::{NoNodesError, NodeError};
use crate::hash::mix64;
use crate::sync::{AtomicU64, Ordering};

/// Picks nodes at random on every call, ignoring the key: `owners(key, r, ..)` returns `r`
/// distinct nodes drawn uniformly (Floyd's algorithm), which spreads stateless requests or
/// fan-out writes over `r` replicas. The generator is splitmix64 on an atomic counter,
/// seeded, so a run can be repeated single-threaded; calls from many threads never block.
///
/// **What moves.** There is no placement to keep: every call draws anew, so a key read back
/// must be looked for on every node (or written to all). Joins and leaves only change the set
/// drawn from.
///
/// # Examples
///
/// ```
/// use pool_cluster::{RandomPlacement, Sharding};
///
/// let random = RandomPlacement::new(["a", "b", "c", "d"], 7)?;
/// let mut out = Vec::new();
/// random.owners(b"ignored", 3, &mut out)?;
/// assert_eq!(out.len(), 3);
/// assert!(out.iter().all(|n| ["a", "b", "c", "d"].contains(n)));
/// out.sort();
/// out.dedup();
/// assert_eq!(out.len(), 3); // distinct
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct RandomPlacement<N> {
    nodes: Vec<N>,
    state: AtomicU64,
}

impl<N: AsRef<[u8]>> RandomPlacement<N> {
    /// Places `nodes`; `seed` starts the generator.
    ///
    /// # Errors
    ///
    /// A [`NodeError`] if two nodes share an id.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(pool_cluster::RandomPlacement::new(["a", "a"], 1).is_err());
    /// ```
    pub fn new(nodes: impl IntoIterator<Item = N>, seed: u64) -> Result<Self, NodeError> {
        let mut random = Self { nodes: Vec::new(), state: AtomicU64::new(seed) };
        for node in nodes {
            random.add_node(node)?;
        }
        Ok(random)
    }

    /// A uniform draw from `0..=bound`.
    fn below_or_eq(&self, bound: usize) -> usize {
        let x = mix64(self.state.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed));
        // Lemire's multiply-shift: bias below 2^-32 for any bound a placement can have.
        ((u128::from(x) * (bound as u128 + 1)) >> 64) as usize
    }
}

impl<N: AsRef<[u8]>> Sharding<N> for RandomPlacement<N> {
    fn name(&self) -> &'static str {
        "random"
    }

    fn node_count(&self) -> usize {
        self.nodes.len()
    }

    fn owner(&self, _key: &[u8]) -> Result<&N, NoNodesError> {
        if self.nodes.is_empty() {
            return Err(NoNodesError);
        }
        Ok(&self.nodes[self.below_or_eq(self.nodes.len() - 1)])
    }

    fn owners<'a>(
        &'a self,
        _key: &[u8],
        r: usize,
        out: &mut Vec<&'a N>,
    ) -> Result<(), NoNodesError> {
        out.clear();
        if r == 0 {
            return Ok(());
        }
        let n = self.nodes.len();
        if n == 0 {
            return Err(NoNodesError);
        }
        let r = r.min(n);
        // Floyd: for j in n−r..n draw t in 0..=j; take t unless taken, else j. Exactly r
        // draws, each r-subset equally likely.
        for j in n - r..n {
            let t = &self.nodes[self.below_or_eq(j)];
            if out.iter().any(|&o| std::ptr::eq(o, t)) {
                out.push(&self.nodes[j]);
            } else {
                out.push(t);
            }
        }
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
