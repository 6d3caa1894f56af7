//! [`HashRing`]: the consistent-hash ring itself, an immutable-by-default value.

use std::fmt;

use super::builder::HashRingBuilder;
use super::index::BucketIndex;
use crate::error::{NoNodesError, NodeError, NodeErrorKind};
use crate::hash::{key_hash, node_points};

/// One point (virtual node) on the ring. Hash and owner side by side, so a lookup reads one
/// cache line for both (two separate arrays cost one more miss per lookup at 1000 nodes).
/// Ordered by hash, then owner (the node's rank by id): the tie-break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Point {
    pub(crate) hash: u64,
    pub(crate) owner: u32,
}

/// One placed node.
#[derive(Clone)]
pub(crate) struct Member<N> {
    pub(crate) node: N,
    pub(crate) weight: f64,
    /// Virtual nodes: `round(vnodes × weight)`.
    pub(crate) points: u32,
}

/// A consistent-hash ring: nodes with weights, each placed at `round(vnodes × weight)`
/// points (virtual nodes) derived from its id with blake3; a key (hashed with xxh3 and a
/// fixed seed, see [`key_hash`]) belongs to the node of the first point at or after its hash,
/// wrapping around.
///
/// - **Deterministic**: placement depends only on the node ids, weights and the vnode count,
///   never on insertion order or the process: equal points are ordered by node id (the bytes
///   of `N::as_ref()`), so removing one node never removes another's point.
/// - **Distinct replicas**: [`get_n`](Self::get_n) walks the ring and skips points of nodes
///   it already returned.
/// - **Minimal movement**: adding a node moves to it only the keys it now owns; removing one
///   moves only its keys; keys never move between two other nodes. [`RingDiff`](crate::RingDiff)
///   lists the hash ranges that change owner.
/// - **Changes merge**: [`add`](Self::add) and [`remove`](Self::remove) merge the node's
///   points into (or filter them out of) the sorted point array in one linear pass; nothing is
///   re-sorted. To change a ring that readers are using, put it in a
///   [`SharedRing`](crate::SharedRing).
///
/// Lookups cost one xxh3 of the key plus one read of a bucket index and about one point
/// (see the crate's `ring_lookup` bench); they never allocate.
///
/// # Examples
///
/// ```
/// use pool_cluster::HashRing;
///
/// let mut ring = HashRing::new(["cache-a:6379", "cache-b:6379", "cache-c:6379"])?;
/// let owner = *ring.get("user:42")?;
///
/// let mut replicas = Vec::with_capacity(2);
/// ring.get_n("user:42", 2, &mut replicas)?;
/// assert_eq!(*replicas[0], owner);
/// assert_ne!(replicas[0], replicas[1]);
///
/// ring.add("cache-d:6379", 1.0)?;
/// let now = *ring.get("user:42")?;
/// assert!(now == owner || now == "cache-d:6379"); // a key moves only to the new node
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct HashRing<N> {
    vnodes: u32,
    /// Sorted by id bytes; a point's owner is an index into this.
    members: Vec<Member<N>>,
    /// Sorted by `(hash, owner)`.
    points: Vec<Point>,
    index: BucketIndex,
    /// Members with at least one point.
    live: usize,
}

impl<N: AsRef<[u8]>> HashRing<N> {
    /// Virtual nodes per unit of weight unless the builder says otherwise: 160, as ketama
    /// (twemproxy, go-redis Ring) uses; enough for a peak/mean share of about 1.2 at 100 nodes.
    pub const DEFAULT_VNODES: u32 = 160;

    /// The most points one node may have: 2^20 (a weight of 6553.6 at 160 vnodes).
    pub const MAX_POINTS_PER_NODE: u64 = 1 << 20;

    /// The most points a ring may have in all: 2^26 (64 Mi points, 768 MiB of arrays).
    pub const MAX_POINTS: u64 = 1 << 26;

    /// A ring of `nodes`, each with weight 1, at [`DEFAULT_VNODES`](Self::DEFAULT_VNODES).
    ///
    /// # Errors
    ///
    /// A [`RingBuildError`](crate::RingBuildError) if two nodes share an id.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_cluster::HashRing;
    ///
    /// let ring = HashRing::new(vec!["a".to_string(), "b".to_string()])?;
    /// assert_eq!(ring.len(), 2);
    /// assert!(HashRing::new(["a", "a"]).is_err());
    /// # Ok::<(), pool_cluster::RingBuildError>(())
    /// ```
    pub fn new(nodes: impl IntoIterator<Item = N>) -> Result<Self, crate::RingBuildError> {
        HashRingBuilder::new().nodes(nodes).build()
    }

    /// A builder for the vnode count and weighted nodes.
    ///
    /// ```
    /// use pool_cluster::HashRing;
    ///
    /// let ring = HashRing::builder().vnodes(100).node("big", 2.0).node("small", 1.0).build()?;
    /// assert_eq!(ring.points_of("big"), Some(200));
    /// # Ok::<(), pool_cluster::RingBuildError>(())
    /// ```
    pub fn builder() -> HashRingBuilder<N> {
        HashRingBuilder::new()
    }

    /// Builds from validated settings: one sort of all points (later changes merge).
    pub(crate) fn from_parts(vnodes: u32, nodes: Vec<(N, f64)>) -> Result<Self, NodeError> {
        let mut members: Vec<Member<N>> = Vec::with_capacity(nodes.len());
        let mut total = 0u64;
        for (node, weight) in nodes {
            let points = points_for(vnodes, weight)?;
            total += u64::from(points);
            check_total(total)?;
            members.push(Member { node, weight, points });
        }
        members.sort_by(|a, b| a.node.as_ref().cmp(b.node.as_ref()));
        if let Some(w) = members.windows(2).find(|w| w[0].node.as_ref() == w[1].node.as_ref()) {
            return Err(NodeError::duplicate(w[0].node.as_ref()));
        }
        let mut points: Vec<Point> = Vec::with_capacity(with_headroom(total as usize));
        let mut scratch = Vec::new();
        for (i, m) in members.iter().enumerate() {
            scratch.clear();
            node_points(m.node.as_ref(), m.points as usize, &mut scratch);
            points.extend(scratch.iter().map(|&hash| Point { hash, owner: i as u32 }));
        }
        points.sort_unstable();
        let mut ring = Self { vnodes, members, points, index: BucketIndex::default(), live: 0 };
        ring.reindex();
        Ok(ring)
    }

    fn reindex(&mut self) {
        self.index.rebuild(&self.points, |p| p.hash);
        self.live = self.members.iter().filter(|m| m.points > 0).count();
    }

    fn position_of(&self, id: &[u8]) -> Result<usize, usize> {
        self.members.binary_search_by(|m| m.node.as_ref().cmp(id))
    }

    /// Adds `node` with `weight` (`round(vnodes × weight)` points; weight 0 places it without
    /// points, drained). One linear merge of its sorted points into the ring's.
    ///
    /// # Errors
    ///
    /// A [`NodeError`] (and the ring unchanged) if a node with the same id is placed, the
    /// weight is NaN, negative or infinite, or the points would exceed
    /// [`MAX_POINTS_PER_NODE`](Self::MAX_POINTS_PER_NODE) or [`MAX_POINTS`](Self::MAX_POINTS).
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_cluster::{HashRing, NodeErrorKind};
    ///
    /// let mut ring = HashRing::new(["a"])?;
    /// ring.add("b", 0.5)?;
    /// assert_eq!(ring.points_of("b"), Some(80));
    /// let err = ring.add("c", f64::INFINITY).unwrap_err();
    /// assert!(matches!(err.kind(), NodeErrorKind::InvalidWeight { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add(&mut self, node: N, weight: f64) -> Result<(), NodeError> {
        let count = points_for(self.vnodes, weight)?;
        check_total(self.points.len() as u64 + u64::from(count))?;
        let pos = match self.position_of(node.as_ref()) {
            Ok(_) => return Err(NodeError::duplicate(node.as_ref())),
            Err(pos) => pos as u32,
        };
        let mut fresh = Vec::new();
        node_points(node.as_ref(), count as usize, &mut fresh);
        fresh.sort_unstable();
        self.merge(|o| Some(if o >= pos { o + 1 } else { o }), &fresh, pos);
        self.members.insert(pos as usize, Member { node, weight, points: count });
        self.reindex();
        Ok(())
    }

    /// Removes the node whose id is `id` and returns it. One linear pass filters out its
    /// points; every other point stays, equal values included.
    ///
    /// # Errors
    ///
    /// A [`NodeError`] of kind [`Unknown`](NodeErrorKind::Unknown) if no such node is placed.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_cluster::HashRing;
    ///
    /// let mut ring = HashRing::new(["a", "b"])?;
    /// assert_eq!(ring.remove("a")?, "a");
    /// assert!(ring.remove("a").is_err());
    /// assert_eq!(*ring.get("any key")?, "b");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove<I: AsRef<[u8]> + ?Sized>(&mut self, id: &I) -> Result<N, NodeError> {
        let pos =
            self.position_of(id.as_ref()).map_err(|_| NodeError::unknown(id.as_ref()))? as u32;
        self.merge(
            |o| match o.cmp(&pos) {
                std::cmp::Ordering::Less => Some(o),
                std::cmp::Ordering::Equal => None,
                std::cmp::Ordering::Greater => Some(o - 1),
            },
            &[],
            0,
        );
        let member = self.members.remove(pos as usize);
        self.reindex();
        Ok(member.node)
    }

    /// Changes the weight of the node `id`. Its point `j` is the same at every weight, so
    /// raising a weight moves keys only to this node and lowering it only away from it;
    /// weight 0 drains it (it stays placed, without points).
    ///
    /// # Errors
    ///
    /// A [`NodeError`] (ring unchanged) if no such node is placed or the weight is invalid or
    /// too large.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_cluster::HashRing;
    ///
    /// let mut ring = HashRing::new(["a", "b"])?;
    /// ring.set_weight("a", 0.0)?;
    /// assert_eq!(*ring.get("any key")?, "b");
    /// assert_eq!(ring.weight_of("a"), Some(0.0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_weight<I: AsRef<[u8]> + ?Sized>(
        &mut self,
        id: &I,
        weight: f64,
    ) -> Result<(), NodeError> {
        let id = id.as_ref();
        let count = points_for(self.vnodes, weight)?;
        let pos = self.position_of(id).map_err(|_| NodeError::unknown(id))?;
        let old = u64::from(self.members[pos].points);
        check_total(self.points.len() as u64 - old + u64::from(count))?;
        let mut fresh = Vec::new();
        node_points(id, count as usize, &mut fresh);
        fresh.sort_unstable();
        let pos32 = pos as u32;
        self.merge(|o| (o != pos32).then_some(o), &fresh, pos32);
        let member = &mut self.members[pos];
        member.weight = weight;
        member.points = count;
        self.reindex();
        Ok(())
    }

    /// Changes the point array in place, without allocating when it has capacity: every
    /// point whose owner `remap`s to `Some(o)` is kept with owner `o` (one `retain` pass), then
    /// `fresh` (sorted) is merged in with owner `fresh_owner` from the back. Ties sort by owner,
    /// so the order is the one a full sort by `(hash, owner)` would give.
    fn merge(&mut self, remap: impl Fn(u32) -> Option<u32>, fresh: &[u64], fresh_owner: u32) {
        // `retain_mut` written out, to renumber and compact in one pass.
        let mut kept = 0;
        for r in 0..self.points.len() {
            let p = self.points[r];
            if let Some(owner) = remap(p.owner) {
                self.points[kept] = Point { hash: p.hash, owner };
                kept += 1;
            }
        }
        self.points.truncate(kept);
        if fresh.is_empty() {
            return;
        }
        let old = self.points.len();
        self.points.resize(old + fresh.len(), Point { hash: 0, owner: 0 });
        let (mut i, mut j, mut w) = (old, fresh.len(), old + fresh.len());
        // Largest first into the free tail; the old points below `i` are already in place.
        while j > 0 {
            let q = Point { hash: fresh[j - 1], owner: fresh_owner };
            w -= 1;
            if i > 0 && self.points[i - 1] > q {
                self.points[w] = self.points[i - 1];
                i -= 1;
            } else {
                self.points[w] = q;
                j -= 1;
            }
        }
    }
}

impl<N> HashRing<N> {
    /// The position of the point that owns `hash`.
    #[inline]
    fn slot(&self, hash: u64) -> Result<usize, NoNodesError> {
        if self.points.is_empty() {
            return Err(NoNodesError);
        }
        let i = self.index.first_at_or_after(&self.points, hash, |p| p.hash);
        Ok(if i == self.points.len() { 0 } else { i })
    }

    #[inline]
    fn owner_at(&self, i: usize) -> &Member<N> {
        &self.members[self.points[i].owner as usize]
    }

    /// The node that owns `key`.
    ///
    /// # Errors
    ///
    /// [`NoNodesError`] if the ring has no node with weight > 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_cluster::HashRing;
    ///
    /// let ring = HashRing::new(["a", "b", "c"])?;
    /// let owner = ring.get("user:42")?;
    /// assert!(["a", "b", "c"].contains(owner));
    /// assert_eq!(ring.get(b"user:42")?, owner); // bytes or str: the same key
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn get<K: AsRef<[u8]> + ?Sized>(&self, key: &K) -> Result<&N, NoNodesError> {
        self.get_by_hash(key_hash(key))
    }

    /// The node that owns a key whose [`key_hash`] is `hash`: for callers that hash once and
    /// look up in several rings.
    ///
    /// # Errors
    ///
    /// [`NoNodesError`] if the ring has no node with weight > 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_cluster::{key_hash, HashRing};
    ///
    /// let ring = HashRing::new(["a", "b"])?;
    /// assert_eq!(ring.get_by_hash(key_hash("k"))?, ring.get("k")?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn get_by_hash(&self, hash: u64) -> Result<&N, NoNodesError> {
        let i = self.slot(hash)?;
        Ok(&self.owner_at(i).node)
    }

    /// Clears `out` and fills it with the `r` distinct nodes that hold `key`: the owner first,
    /// then the next distinct nodes clockwise. If `r` is larger than the number of nodes with
    /// weight > 0, all of them are returned (so `out.len()` may be less than `r`). `r = 0`
    /// gives an empty `out`. Never allocates when `out` has capacity for `r` entries.
    ///
    /// # Errors
    ///
    /// [`NoNodesError`] if the ring has no node with weight > 0 (and `r > 0`).
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_cluster::HashRing;
    ///
    /// let ring = HashRing::new(["a", "b", "c"])?;
    /// let mut out = Vec::with_capacity(3);
    /// ring.get_n("user:42", 2, &mut out)?;
    /// assert_eq!(out.len(), 2);
    /// assert_eq!(out[0], ring.get("user:42")?);
    /// ring.get_n("user:42", 10, &mut out)?; // more than there are: all three
    /// assert_eq!(out.len(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn get_n<'a, K: AsRef<[u8]> + ?Sized>(
        &'a self,
        key: &K,
        r: usize,
        out: &mut Vec<&'a N>,
    ) -> Result<(), NoNodesError> {
        self.get_n_by_hash(key_hash(key), r, out)
    }

    /// [`get_n`](Self::get_n) for a key whose [`key_hash`] is `hash`.
    ///
    /// # Errors
    ///
    /// [`NoNodesError`] if the ring has no node with weight > 0 (and `r > 0`).
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_cluster::{key_hash, HashRing};
    ///
    /// let ring = HashRing::new(["a", "b", "c"])?;
    /// let mut out = Vec::new();
    /// ring.get_n_by_hash(key_hash("k"), 3, &mut out)?;
    /// assert_eq!(out.len(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn get_n_by_hash<'a>(
        &'a self,
        hash: u64,
        r: usize,
        out: &mut Vec<&'a N>,
    ) -> Result<(), NoNodesError> {
        self.get_n_filtered_by_hash(hash, r, out, |_| true)
    }

    /// Like [`get_n`](Self::get_n), but skips nodes for which `keep` returns `false` (for
    /// example, nodes the health layer marks down), walking further clockwise instead: the
    /// replicas a key falls back to are the same in every process that skips the same nodes.
    /// `keep` may be called more than once for a node. Returns fewer than `r` nodes (possibly
    /// none) when fewer are kept.
    ///
    /// # Errors
    ///
    /// [`NoNodesError`] if the ring has no node with weight > 0 (and `r > 0`).
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_cluster::HashRing;
    ///
    /// let ring = HashRing::new(["a", "b", "c"])?;
    /// let mut all = Vec::new();
    /// ring.get_n("user:42", 3, &mut all)?;
    /// let down = *all[0];
    /// let mut healthy = Vec::new();
    /// ring.get_n_filtered("user:42", 2, &mut healthy, |n| *n != down)?;
    /// assert_eq!(healthy, all[1..]); // the next two replicas take over, in ring order
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_n_filtered<'a, K: AsRef<[u8]> + ?Sized>(
        &'a self,
        key: &K,
        r: usize,
        out: &mut Vec<&'a N>,
        keep: impl FnMut(&N) -> bool,
    ) -> Result<(), NoNodesError> {
        self.get_n_filtered_by_hash(key_hash(key), r, out, keep)
    }

    /// [`get_n_filtered`](Self::get_n_filtered) for a key whose [`key_hash`] is `hash`.
    ///
    /// # Errors
    ///
    /// [`NoNodesError`] if the ring has no node with weight > 0 (and `r > 0`).
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_cluster::{key_hash, HashRing};
    ///
    /// let ring = HashRing::new(["a", "b"])?;
    /// let mut out = Vec::new();
    /// ring.get_n_filtered_by_hash(key_hash("k"), 2, &mut out, |n| *n == "b")?;
    /// assert_eq!(out, [&"b"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn get_n_filtered_by_hash<'a>(
        &'a self,
        hash: u64,
        r: usize,
        out: &mut Vec<&'a N>,
        mut keep: impl FnMut(&N) -> bool,
    ) -> Result<(), NoNodesError> {
        out.clear();
        if r == 0 {
            return Ok(());
        }
        let start = self.slot(hash)?;
        let want = r.min(self.live);
        // One full circle at most, starting at the owner's point: when fewer than `want`
        // nodes are kept, every point is seen once.
        let (before, from_start) = self.points.split_at(start);
        for p in from_start.iter().chain(before) {
            let node = &self.members[p.owner as usize].node;
            if out.iter().any(|&seen| std::ptr::eq(seen, node)) || !keep(node) {
                continue;
            }
            out.push(node);
            if out.len() == want {
                break;
            }
        }
        Ok(())
    }

    /// Nodes placed, drained (weight 0) ones included.
    ///
    /// ```
    /// let ring = pool_cluster::HashRing::builder().node("a", 1.0).node("b", 0.0).build()?;
    /// assert_eq!(ring.len(), 2);
    /// # Ok::<(), pool_cluster::RingBuildError>(())
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// No node is placed.
    ///
    /// ```
    /// assert!(pool_cluster::HashRing::<&str>::builder().build()?.is_empty());
    /// # Ok::<(), pool_cluster::RingBuildError>(())
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Virtual nodes per unit of weight.
    ///
    /// ```
    /// assert_eq!(pool_cluster::HashRing::new(["a"])?.vnodes(), 160);
    /// # Ok::<(), pool_cluster::RingBuildError>(())
    /// ```
    #[must_use]
    pub fn vnodes(&self) -> u32 {
        self.vnodes
    }

    /// Points on the ring, all nodes together.
    ///
    /// ```
    /// assert_eq!(pool_cluster::HashRing::new(["a", "b"])?.total_points(), 320);
    /// # Ok::<(), pool_cluster::RingBuildError>(())
    /// ```
    #[must_use]
    pub fn total_points(&self) -> usize {
        self.points.len()
    }

    /// The nodes with their weights, ordered by id.
    ///
    /// ```
    /// let ring = pool_cluster::HashRing::builder().node("b", 2.0).node("a", 1.0).build()?;
    /// let nodes: Vec<_> = ring.nodes().collect();
    /// assert_eq!(nodes, [(&"a", 1.0), (&"b", 2.0)]);
    /// # Ok::<(), pool_cluster::RingBuildError>(())
    /// ```
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = (&N, f64)> + '_ {
        self.members.iter().map(|m| (&m.node, m.weight))
    }

    /// The exact fraction of the hash space each node owns (the sum of the arcs that end at its
    /// points, over 2^64), in [`nodes`](Self::nodes) order. All zeros when no node has points.
    ///
    /// ```
    /// let ring = pool_cluster::HashRing::new(["a", "b", "c"])?;
    /// let shares = ring.shares();
    /// assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    /// assert!(shares.iter().all(|&s| s > 0.2 && s < 0.5));
    /// # Ok::<(), pool_cluster::RingBuildError>(())
    /// ```
    #[must_use]
    pub fn shares(&self) -> Vec<f64> {
        let mut arcs = vec![0u128; self.members.len()];
        let n = self.points.len();
        if n == 1 {
            arcs[self.points[0].owner as usize] = 1u128 << 64;
        } else {
            for i in 0..n {
                let prev = self.points[if i == 0 { n - 1 } else { i - 1 }].hash;
                let p = self.points[i];
                arcs[p.owner as usize] += u128::from(p.hash.wrapping_sub(prev));
            }
        }
        arcs.into_iter().map(|a| a as f64 / 2f64.powi(64)).collect()
    }

    pub(crate) fn members(&self) -> &[Member<N>] {
        &self.members
    }

    pub(crate) fn point_array(&self) -> &[Point] {
        &self.points
    }

    /// The position of the point that owns `hash`.
    pub(crate) fn start_slot(&self, hash: u64) -> Result<usize, NoNodesError> {
        self.slot(hash)
    }

    /// The owner (index into `members`) of point `i`.
    pub(crate) fn owner_of_point(&self, i: usize) -> usize {
        self.points[i].owner as usize
    }
}

impl<N: AsRef<[u8]>> HashRing<N> {
    /// The weight of node `id`, if placed.
    ///
    /// ```
    /// let ring = pool_cluster::HashRing::builder().node("a", 2.5).build()?;
    /// assert_eq!(ring.weight_of("a"), Some(2.5));
    /// assert_eq!(ring.weight_of("z"), None);
    /// # Ok::<(), pool_cluster::RingBuildError>(())
    /// ```
    #[must_use]
    pub fn weight_of<I: AsRef<[u8]> + ?Sized>(&self, id: &I) -> Option<f64> {
        self.position_of(id.as_ref()).ok().map(|i| self.members[i].weight)
    }

    /// The number of points (virtual nodes) of node `id`, if placed.
    ///
    /// ```
    /// let ring = pool_cluster::HashRing::builder().vnodes(10).node("a", 1.26).build()?;
    /// assert_eq!(ring.points_of("a"), Some(13)); // round(10 × 1.26)
    /// # Ok::<(), pool_cluster::RingBuildError>(())
    /// ```
    #[must_use]
    pub fn points_of<I: AsRef<[u8]> + ?Sized>(&self, id: &I) -> Option<u32> {
        self.position_of(id.as_ref()).ok().map(|i| self.members[i].points)
    }

    /// Whether node `id` is placed.
    ///
    /// ```
    /// let ring = pool_cluster::HashRing::new(["a"])?;
    /// assert!(ring.contains("a") && !ring.contains("b"));
    /// # Ok::<(), pool_cluster::RingBuildError>(())
    /// ```
    #[must_use]
    pub fn contains<I: AsRef<[u8]> + ?Sized>(&self, id: &I) -> bool {
        self.position_of(id.as_ref()).is_ok()
    }
}

/// A copy keeps spare capacity in its point array (see `with_headroom`), like a built ring.
impl<N: Clone> Clone for HashRing<N> {
    fn clone(&self) -> Self {
        let mut points = Vec::with_capacity(with_headroom(self.points.len()));
        points.extend_from_slice(&self.points);
        Self {
            vnodes: self.vnodes,
            members: self.members.clone(),
            points,
            index: self.index.clone(),
            live: self.live,
        }
    }
}

/// Two rings are equal when they place the same nodes (by id) with the same weights and
/// vnodes, and so own every key alike, whatever order the nodes arrived in.
impl<N: AsRef<[u8]>> PartialEq for HashRing<N> {
    fn eq(&self, other: &Self) -> bool {
        self.vnodes == other.vnodes
            && self.members.len() == other.members.len()
            && self.members.iter().zip(&other.members).all(|(a, b)| {
                a.node.as_ref() == b.node.as_ref() && a.weight.to_bits() == b.weight.to_bits()
            })
            && self.points == other.points
    }
}

impl<N: fmt::Debug> fmt::Debug for HashRing<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashRing")
            .field("vnodes", &self.vnodes)
            .field("nodes", &self.members.iter().map(|m| (&m.node, m.weight)).collect::<Vec<_>>())
            .field("points", &self.points.len())
            .finish()
    }
}

/// Capacity for `len` points plus 1/16 spare (and 64), so that adding a node to a built or
/// copied ring (the copy a [`SharedRing`](crate::SharedRing) change works on) merges in place
/// instead of moving the whole array to a larger one: at 1000 nodes that move costs as much
/// as the merge itself (`ring_change` bench).
fn with_headroom(len: usize) -> usize {
    len + len / 16 + 64
}

/// Points for a node of `weight`: `round(vnodes × weight)`.
pub(crate) fn points_for(vnodes: u32, weight: f64) -> Result<u32, NodeError> {
    if !weight.is_finite() || weight < 0.0 {
        return Err(NodeError::new(NodeErrorKind::InvalidWeight { weight }));
    }
    let limit = HashRing::<&[u8]>::MAX_POINTS_PER_NODE;
    let points = (f64::from(vnodes) * weight).round();
    if points > limit as f64 {
        return Err(NodeError::new(NodeErrorKind::TooManyPoints {
            requested: points.min(u64::MAX as f64) as u64,
            limit,
        }));
    }
    Ok(points as u32)
}

fn check_total(total: u64) -> Result<(), NodeError> {
    let limit = HashRing::<&[u8]>::MAX_POINTS;
    if total > limit {
        return Err(NodeError::new(NodeErrorKind::TooManyPoints { requested: total, limit }));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pts(v: &[(u64, u32)]) -> Vec<Point> {
        v.iter().map(|&(hash, owner)| Point { hash, owner }).collect()
    }

    /// Two nodes whose points collide, which blake3 never yields in practice: built by hand.
    fn colliding() -> HashRing<&'static str> {
        let mut ring = HashRing::builder().vnodes(1).nodes(["a", "b"]).build().unwrap();
        ring.points = pts(&[(100, 0), (100, 1)]);
        ring.reindex();
        ring
    }

    #[test]
    fn equal_points_go_to_the_smaller_id() {
        let ring = colliding();
        assert_eq!(*ring.get_by_hash(100).unwrap(), "a");
        assert_eq!(*ring.get_by_hash(50).unwrap(), "a");
        let mut out = Vec::new();
        ring.get_n_by_hash(100, 2, &mut out).unwrap();
        assert_eq!(out, [&"a", &"b"]);
    }

    #[test]
    fn removing_one_node_keeps_the_others_equal_point() {
        let mut ring = colliding();
        ring.remove("a").unwrap();
        assert_eq!(ring.points, pts(&[(100, 0)])); // b, renumbered to 0
        assert_eq!(*ring.get_by_hash(100).unwrap(), "b");
        let mut ring = colliding();
        ring.remove("b").unwrap();
        assert_eq!(ring.points, pts(&[(100, 0)]));
        assert_eq!(*ring.get_by_hash(100).unwrap(), "a");
    }

    #[test]
    fn a_merged_equal_point_sorts_by_owner_whichever_side_it_comes_from() {
        // Owner 1 holds 100; merging a point 100 for owner 0 puts it first...
        let mut ring = colliding();
        ring.points = pts(&[(100, 1)]);
        ring.merge(Some, &[100], 0);
        assert_eq!(ring.points, pts(&[(100, 0), (100, 1)]));
        // ...and merging one for owner 2 puts it after.
        ring.merge(Some, &[100], 2);
        assert_eq!(ring.points, pts(&[(100, 0), (100, 1), (100, 2)]));
    }
}
