//! The `hashring` crate set up as a ring with virtual nodes, the anchor of the comparisons.

use std::hash::Hash;

/// One virtual node as `hashring` stores it: `hashring` has no virtual nodes of its own, so
/// each physical node is added `vnodes` times under distinct (node, replica) values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct VNode {
    node: u32,
    replica: u32,
}

/// `hashring::HashRing` holding `vnodes` entries per node (nodes numbered `0..n`), added with
/// one `batch_add` (one sort).
///
/// ```
/// use pool_benches::ringsim::HashringAnchor;
///
/// let ring = HashringAnchor::new(10, 160);
/// assert!(ring.get(&[7u8; 24]).unwrap() < 10);
/// ```
#[derive(Debug)]
pub struct HashringAnchor {
    ring: hashring::HashRing<VNode>,
}

impl HashringAnchor {
    /// `nodes` nodes with `vnodes` entries each.
    #[must_use]
    pub fn new(nodes: u32, vnodes: u32) -> Self {
        Self::with_counts(&vec![vnodes; nodes as usize])
    }

    /// Node `i` with `counts[i]` entries (weights as vnode counts).
    ///
    /// ```
    /// let ring = pool_benches::ringsim::HashringAnchor::with_counts(&[0, 5]);
    /// assert_eq!(ring.get(&"any"), Some(1));
    /// ```
    #[must_use]
    pub fn with_counts(counts: &[u32]) -> Self {
        let mut ring = hashring::HashRing::new();
        ring.batch_add(
            counts
                .iter()
                .enumerate()
                .flat_map(|(node, &c)| {
                    (0..c).map(move |replica| VNode { node: node as u32, replica })
                })
                .collect(),
        );
        Self { ring }
    }

    /// The node owning `key`.
    #[inline]
    pub fn get<K: Hash>(&self, key: &K) -> Option<u32> {
        self.ring.get(key).map(|v| v.node)
    }

    /// `hashring`'s `get_with_replicas(key, r - 1)`: r entries (it clones the whole ring to
    /// rotate it), mapped to their physical nodes, repeats included.
    pub fn get_with_replicas<K: Hash>(&self, key: &K, r: usize) -> Vec<u32> {
        self.ring
            .get_with_replicas(key, r.saturating_sub(1))
            .map(|v| v.into_iter().map(|v| v.node).collect())
            .unwrap_or_default()
    }

    /// Adds one more node (numbered `node`) with `vnodes` entries: one `batch_add`.
    pub fn add(&mut self, node: u32, vnodes: u32) {
        self.ring.batch_add((0..vnodes).map(|replica| VNode { node, replica }).collect());
    }

    /// Removes node `node`'s `vnodes` entries, one `remove` (a `Vec::remove`) each.
    pub fn remove(&mut self, node: u32, vnodes: u32) {
        for replica in 0..vnodes {
            self.ring.remove(&VNode { node, replica });
        }
    }
}
