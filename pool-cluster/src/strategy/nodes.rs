//! The node-list chores the list-based strategies (jump, range, slots, random) share: refusing a
//! duplicate id, finding a node by id, and taking the next `r` nodes after an owner.

use crate::NodeError;

/// Refuses `node` when `nodes` already holds its id.
pub(super) fn check_new<N: AsRef<[u8]>>(nodes: &[N], node: &N) -> Result<(), NodeError> {
    if nodes.iter().any(|n| n.as_ref() == node.as_ref()) {
        return Err(NodeError::duplicate(node.as_ref()));
    }
    Ok(())
}

/// The index of the node with this id.
pub(super) fn position<N: AsRef<[u8]>>(nodes: &[N], id: &[u8]) -> Result<usize, NodeError> {
    nodes.iter().position(|n| n.as_ref() == id).ok_or_else(|| NodeError::unknown(id))
}

/// Fills `out` with `min(r, len)` distinct nodes: the owner at `first`, then the following
/// ones, wrapping around. `nodes` must not be empty.
pub(super) fn successors<'a, N>(nodes: &'a [N], first: usize, r: usize, out: &mut Vec<&'a N>) {
    let n = nodes.len();
    out.extend((0..r.min(n)).map(|i| &nodes[(first + i) % n]));
}
