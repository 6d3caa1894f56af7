//! Redis Cluster's hash slots: `CRC16(key) mod 16384`, with `{hash tags}`.

use super::crc16::crc16;
use super::nodes;
use super::sharding::Sharding;
use crate::error::{NoNodesError, NodeError, NodeErrorKind};

/// Hash slots in a Redis Cluster.
pub const SLOT_COUNT: u16 = 16384;

/// The Redis Cluster slot of `key`, as `CLUSTER KEYSLOT` computes it: if the key holds a `{`
/// followed later by a `}` with at least one byte between them, only the bytes between the
/// first `{` and the first `}` after it are hashed (a hash tag); otherwise the whole key.
///
/// ```
/// use pool_cluster::key_slot;
///
/// assert_eq!(key_slot(b"foo"), 12182);                       // as CLUSTER KEYSLOT foo
/// assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
/// assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}")); // empty tag: whole key
/// assert_ne!(key_slot(b"foo{}{bar}"), key_slot(b"bar"));
/// ```
#[must_use]
pub fn key_slot(key: &[u8]) -> u16 {
    let hashed = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            rest.iter().position(|&b| b == b'}').filter(|&len| len > 0).map(|len| &rest[..len])
        })
        .unwrap_or(key);
    crc16(hashed) & (SLOT_COUNT - 1)
}

/// Redis Cluster placement: each key maps to one of 16384 slots ([`key_slot`]), each slot to
/// a node. A new node takes whole slots from the nodes above their fair share (as
/// `redis-cli --cluster rebalance` would); a leaving node's slots go to the nodes with the
/// fewest. Replicas are the next nodes in join order after the slot's owner (Redis configures
/// replicas per primary; this only models the spread).
///
/// **What moves.** On a join, about `1/(n+1)` of the slots, only to the new node; on a leave,
/// only the node's slots. Keys move with their slot, so keys sharing a hash tag move together.
///
/// # Examples
///
/// ```
/// use pool_cluster::{key_slot, RedisSlots, Sharding};
///
/// let mut cluster = RedisSlots::new(["a", "b", "c"])?;
/// assert_eq!(cluster.slot_counts(), [5462, 5461, 5461]);
/// cluster.add_node("d")?;
/// assert_eq!(cluster.slot_counts(), [4096, 4096, 4096, 4096]);
/// assert_eq!(cluster.owner(b"{user}.a")?, cluster.owner(b"{user}.b")?);
/// assert_eq!(cluster.slot_owner(key_slot(b"foo")), cluster.owner(b"foo").ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisSlots<N> {
    /// In join order.
    nodes: Vec<N>,
    /// `owner[slot]` indexes `nodes`; meaningless while `nodes` is empty.
    owner: Vec<u16>,
}

impl<N: AsRef<[u8]>> RedisSlots<N> {
    /// Assigns the slots to `nodes` in contiguous, even ranges, as `redis-cli --cluster create`
    /// does (the first `16384 mod n` nodes get one slot more).
    ///
    /// # Errors
    ///
    /// A [`NodeError`] for a duplicate id or more than 16384 nodes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_cluster::RedisSlots::new(["a", "b"])?.slot_counts(), [8192, 8192]);
    /// # Ok::<(), pool_cluster::NodeError>(())
    /// ```
    pub fn new(nodes: impl IntoIterator<Item = N>) -> Result<Self, NodeError> {
        let nodes: Vec<N> = nodes.into_iter().collect();
        let n = nodes.len();
        if n > usize::from(SLOT_COUNT) {
            return Err(NodeError::new(NodeErrorKind::TooManyNodes {
                limit: usize::from(SLOT_COUNT),
            }));
        }
        for (i, a) in nodes.iter().enumerate() {
            if nodes[..i].iter().any(|b| b.as_ref() == a.as_ref()) {
                return Err(NodeError::duplicate(a.as_ref()));
            }
        }
        let mut owner = vec![0u16; usize::from(SLOT_COUNT)];
        if let Some(base) = usize::from(SLOT_COUNT).checked_div(n) {
            let extra = usize::from(SLOT_COUNT) % n;
            let mut slot = 0;
            for i in 0..n {
                let count = base + usize::from(i < extra);
                owner[slot..slot + count].fill(i as u16);
                slot += count;
            }
        }
        Ok(Self { nodes, owner })
    }

    /// The nodes in join order.
    ///
    /// ```
    /// assert_eq!(pool_cluster::RedisSlots::new(["a", "b"])?.nodes(), ["a", "b"]);
    /// # Ok::<(), pool_cluster::NodeError>(())
    /// ```
    #[must_use]
    pub fn nodes(&self) -> &[N] {
        &self.nodes
    }

    /// The node that serves `slot` (`None` with no nodes or `slot >= 16384`).
    ///
    /// ```
    /// let c = pool_cluster::RedisSlots::new(["a", "b"])?;
    /// assert_eq!(c.slot_owner(0), Some(&"a"));
    /// assert_eq!(c.slot_owner(16383), Some(&"b"));
    /// assert_eq!(c.slot_owner(16384), None);
    /// # Ok::<(), pool_cluster::NodeError>(())
    /// ```
    #[must_use]
    pub fn slot_owner(&self, slot: u16) -> Option<&N> {
        if self.nodes.is_empty() {
            return None;
        }
        self.owner.get(usize::from(slot)).map(|&i| &self.nodes[usize::from(i)])
    }

    /// Slots per node, in join order.
    ///
    /// ```
    /// let c = pool_cluster::RedisSlots::new(["a", "b", "c"])?;
    /// assert_eq!(c.slot_counts().iter().sum::<usize>(), 16384);
    /// # Ok::<(), pool_cluster::NodeError>(())
    /// ```
    #[must_use]
    pub fn slot_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.nodes.len()];
        if !self.nodes.is_empty() {
            for &o in &self.owner {
                counts[usize::from(o)] += 1;
            }
        }
        counts
    }
}

impl<N: AsRef<[u8]>> Sharding<N> for RedisSlots<N> {
    fn name(&self) -> &'static str {
        "redis-slots"
    }

    fn node_count(&self) -> usize {
        self.nodes.len()
    }

    fn owner(&self, key: &[u8]) -> Result<&N, NoNodesError> {
        self.slot_owner(key_slot(key)).ok_or(NoNodesError)
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
        let first = usize::from(self.owner[usize::from(key_slot(key))]);
        nodes::successors(&self.nodes, first, r, out);
        Ok(())
    }

    fn add_node(&mut self, node: N) -> Result<(), NodeError> {
        nodes::check_new(&self.nodes, &node)?;
        let n = self.nodes.len();
        if n >= usize::from(SLOT_COUNT) {
            return Err(NodeError::new(NodeErrorKind::TooManyNodes {
                limit: usize::from(SLOT_COUNT),
            }));
        }
        if n == 0 {
            self.nodes.push(node);
            self.owner.fill(0);
            return Ok(());
        }
        // Fair shares for n+1 nodes; each node gives up its slots above its share, highest
        // slots first, and only to the new node.
        let total = usize::from(SLOT_COUNT);
        let (base, extra) = (total / (n + 1), total % (n + 1));
        let counts = self.slot_counts();
        let mut surplus: Vec<usize> = counts
            .iter()
            .enumerate()
            .map(|(i, &c)| c.saturating_sub(base + usize::from(i < extra)))
            .collect();
        let new = n as u16;
        for slot in (0..total).rev() {
            let o = usize::from(self.owner[slot]);
            if surplus[o] > 0 {
                surplus[o] -= 1;
                self.owner[slot] = new;
            }
        }
        self.nodes.push(node);
        Ok(())
    }

    fn remove_node(&mut self, id: &[u8]) -> Result<N, NodeError> {
        let gone = nodes::position(&self.nodes, id)?;
        let mut counts = self.slot_counts();
        let n = self.nodes.len();
        if n > 1 {
            counts[gone] = usize::MAX;
            for o in &mut self.owner {
                if usize::from(*o) == gone {
                    // To the node with the fewest slots; ties to the earliest joined.
                    let (to, _) =
                        counts.iter().enumerate().min_by_key(|&(i, &c)| (c, i)).unwrap_or((0, &0));
                    counts[to] += 1;
                    *o = to as u16;
                }
            }
        }
        // Renumber: nodes after `gone` shift down by one (a renaming, not a move).
        for o in &mut self.owner {
            if usize::from(*o) > gone {
                *o -= 1;
            }
        }
        Ok(self.nodes.remove(gone))
    }
}
