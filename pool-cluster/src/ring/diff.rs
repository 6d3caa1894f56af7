//! [`RingDiff`]: which keys change owner between two rings, for rebalancing after a join or a
//! leave.

use std::fmt;

use super::hash_ring::HashRing;
use crate::error::NoNodesError;
use crate::hash::key_hash;

/// A range of the hash space that changes owner: the hashes `h` with `start < h <= end`,
/// wrapping past `u64::MAX` to 0 when `start >= end` (and the whole space when
/// `start == end`).
///
/// # Examples
///
/// ```
/// use pool_cluster::{HashRing, RingDiff};
///
/// let before = HashRing::new(["a", "b"])?;
/// let mut after = before.clone();
/// after.add("c", 1.0)?;
/// let diff = RingDiff::new(&before, &after)?;
/// let range = &diff.ranges()[0];
/// assert_eq!(*range.to, "c");
/// assert!(range.contains(range.end) && !range.contains(range.start));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct MovedRange<'a, N> {
    /// Exclusive lower end.
    pub start: u64,
    /// Inclusive upper end.
    pub end: u64,
    /// The owner in the first ring.
    pub from: &'a N,
    /// The owner in the second ring.
    pub to: &'a N,
}

impl<N> MovedRange<'_, N> {
    /// Whether `hash` (a [`key_hash`](crate::key_hash)) lies in this range.
    ///
    /// ```
    /// let r = pool_cluster::MovedRange { start: u64::MAX - 1, end: 5, from: &"a", to: &"b" };
    /// assert!(r.contains(u64::MAX) && r.contains(0) && r.contains(5));
    /// assert!(!r.contains(6) && !r.contains(u64::MAX - 1));
    /// ```
    #[must_use]
    pub fn contains(&self, hash: u64) -> bool {
        if self.start < self.end {
            self.start < hash && hash <= self.end
        } else {
            hash > self.start || hash <= self.end
        }
    }

    /// The fraction of the hash space in this range.
    ///
    /// ```
    /// let r = pool_cluster::MovedRange { start: 0, end: 1 << 62, from: &"a", to: &"b" };
    /// assert_eq!(r.fraction(), 0.25);
    /// ```
    #[must_use]
    pub fn fraction(&self) -> f64 {
        let len = if self.start == self.end {
            1u128 << 64
        } else {
            u128::from(self.end.wrapping_sub(self.start))
        };
        len as f64 / 2f64.powi(64)
    }
}

impl<N: fmt::Debug> fmt::Debug for MovedRange<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({:#018x}, {:#018x}] {:?} -> {:?}", self.start, self.end, self.from, self.to)
    }
}

/// The difference between two rings: the hash ranges whose owner changes, and a
/// [`moves`](Self::moves) predicate for single keys.
///
/// For a rebalance after a join, copy the keys in [`ranges`](Self::ranges) from `from` to `to`
/// (a `SCAN` that filters with [`moves`](Self::moves) does the same key by key). Between two
/// rings that differ by one join or one leave, every range has the joining or leaving node at
/// one end: keys never move between two surviving nodes.
///
/// # Examples
///
/// ```
/// use pool_cluster::{HashRing, RingDiff};
///
/// let before = HashRing::new(["a", "b", "c"])?;
/// let mut after = before.clone();
/// after.remove("b")?;
/// let diff = RingDiff::new(&before, &after)?;
/// assert!(diff.ranges().iter().all(|r| *r.from == "b"));
/// assert!((diff.moved_fraction() - before.shares()[1]).abs() < 1e-12);
/// for key in ["k1", "k2", "k3"] {
///     assert_eq!(diff.moves(key), before.get(key)? != after.get(key)?);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct RingDiff<'a, N> {
    before: &'a HashRing<N>,
    after: &'a HashRing<N>,
    ranges: Vec<MovedRange<'a, N>>,
}

impl<'a, N: AsRef<[u8]>> RingDiff<'a, N> {
    /// Compares `before` with `after`: one merge of both rings' points, and one lookup per
    /// point in each ring.
    ///
    /// # Errors
    ///
    /// [`NoNodesError`] if either ring has no node with weight > 0 (then keys have no owner
    /// on that side, and nothing can be moved there or from there).
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_cluster::{HashRing, RingDiff};
    ///
    /// let ring = HashRing::new(["a", "b"])?;
    /// assert!(RingDiff::new(&ring, &ring)?.ranges().is_empty());
    /// let empty = HashRing::<&str>::builder().build()?;
    /// assert!(RingDiff::new(&ring, &empty).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(before: &'a HashRing<N>, after: &'a HashRing<N>) -> Result<Self, NoNodesError> {
        if before.total_points() == 0 || after.total_points() == 0 {
            return Err(NoNodesError);
        }
        // Every owner boundary of either ring: the union of both point sets.
        let mut bounds = Vec::with_capacity(before.total_points() + after.total_points());
        let (a, b) = (before.point_array(), after.point_array());
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            let next = match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) if x.hash <= y.hash => {
                    i += 1;
                    x.hash
                }
                (_, Some(y)) => {
                    j += 1;
                    y.hash
                }
                (Some(x), None) => {
                    i += 1;
                    x.hash
                }
                (None, None) => break,
            };
            if bounds.last() != Some(&next) {
                bounds.push(next);
            }
        }
        // Each segment (previous bound, bound] has one owner per ring: the owner of `bound`.
        let mut ranges: Vec<MovedRange<'a, N>> = Vec::new();
        for (k, &end) in bounds.iter().enumerate() {
            let start = if k == 0 { bounds[bounds.len() - 1] } else { bounds[k - 1] };
            let from = before.get_by_hash(end)?;
            let to = after.get_by_hash(end)?;
            if from.as_ref() == to.as_ref() {
                continue;
            }
            match ranges.last_mut() {
                Some(last)
                    if last.end == start
                        && std::ptr::eq(last.from, from)
                        && std::ptr::eq(last.to, to) =>
                {
                    last.end = end;
                }
                _ => ranges.push(MovedRange { start, end, from, to }),
            }
        }
        // The first range may continue the last one across the wrap.
        if ranges.len() > 1 {
            let (first, last) = (&ranges[0], &ranges[ranges.len() - 1]);
            if last.end == first.start
                && std::ptr::eq(last.from, first.from)
                && std::ptr::eq(last.to, first.to)
            {
                let end = ranges[0].end;
                ranges.remove(0);
                if let Some(last) = ranges.last_mut() {
                    last.end = end;
                }
            }
        }
        Ok(Self { before, after, ranges })
    }

    /// The ranges that change owner, in hash order (the last may wrap past `u64::MAX`).
    ///
    /// ```
    /// # use pool_cluster::{HashRing, RingDiff};
    /// let before = HashRing::new(["a"])?;
    /// let after = HashRing::new(["b"])?;
    /// let diff = RingDiff::new(&before, &after)?;
    /// assert_eq!(diff.moved_fraction(), 1.0);
    /// assert!(diff.ranges().iter().all(|r| (*r.from, *r.to) == ("a", "b")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn ranges(&self) -> &[MovedRange<'a, N>] {
        &self.ranges
    }

    /// The exact fraction of the hash space that changes owner.
    ///
    /// ```
    /// # use pool_cluster::{HashRing, RingDiff};
    /// let ring = HashRing::new(["a", "b"])?;
    /// assert_eq!(RingDiff::new(&ring, &ring)?.moved_fraction(), 0.0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn moved_fraction(&self) -> f64 {
        self.ranges.iter().map(MovedRange::fraction).sum()
    }

    /// Whether `key` has another owner in the second ring than in the first.
    ///
    /// ```
    /// # use pool_cluster::{HashRing, RingDiff};
    /// let before = HashRing::new(["a", "b"])?;
    /// let mut after = before.clone();
    /// after.add("c", 1.0)?;
    /// let diff = RingDiff::new(&before, &after)?;
    /// assert_eq!(diff.moves("k"), *after.get("k")? == "c");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn moves<K: AsRef<[u8]> + ?Sized>(&self, key: &K) -> bool {
        self.moves_hash(key_hash(key))
    }

    /// [`moves`](Self::moves) for a key whose [`key_hash`](crate::key_hash) is `hash`.
    ///
    /// ```
    /// # use pool_cluster::{key_hash, HashRing, RingDiff};
    /// let ring = HashRing::new(["a", "b"])?;
    /// assert!(!RingDiff::new(&ring, &ring)?.moves_hash(key_hash("k")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn moves_hash(&self, hash: u64) -> bool {
        match (self.before.get_by_hash(hash), self.after.get_by_hash(hash)) {
            (Ok(a), Ok(b)) => a.as_ref() != b.as_ref(),
            _ => true, // `new` refused empty rings; kept total
        }
    }
}
