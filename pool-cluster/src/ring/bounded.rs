//! Consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam, "Consistent
//! Hashing with Bounded Loads", SODA 2018).

use super::hash_ring::HashRing;
use crate::error::{BoundedLoadsError, BoundedLoadsErrorKind};
use crate::hash::key_hash;

/// Assigns keys to a ring's nodes so that no node holds more than
/// `⌈(1+ε) · m · wᵢ / Σw⌉` of the `m` keys assigned so far, where `wᵢ` is the node's number
/// of points (its weight in vnodes, so `round(vnodes × weight)`). A key goes to its ring owner
/// unless that node is full; then it walks clockwise to the first node with room.
///
/// **Per process.** The assignment depends on the order in which keys arrive (a key that finds
/// its owner full goes elsewhere), so two processes that see keys in different orders disagree.
/// Use it to balance work inside one process (connections, requests in flight); use
/// [`HashRing::get`] wherever processes must agree.
///
/// Such a node always exists: the capacities sum to at least `(1+ε)·m`, more than the `m − 1`
/// keys already placed, and every node with a capacity above 0 has points on the ring.
///
/// # Examples
///
/// ```
/// use pool_cluster::{BoundedLoads, HashRing};
///
/// let ring = HashRing::new(["a", "b", "c"])?;
/// let mut loads = BoundedLoads::new(&ring, 0.25)?;
/// for i in 0..300 {
///     loads.assign(format!("request-{i}").as_str());
/// }
/// // ⌈1.25 × 300 × 160 / 480⌉ = 125
/// assert!(loads.loads().all(|(_, load)| load <= 125));
/// assert_eq!(loads.assigned(), 300);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct BoundedLoads<'a, N> {
    ring: &'a HashRing<N>,
    epsilon: f64,
    loads: Vec<u64>,
    assigned: u64,
    total_points: f64,
}

impl<'a, N> BoundedLoads<'a, N> {
    /// Starts with every load at 0.
    ///
    /// # Errors
    ///
    /// A [`BoundedLoadsError`] if `epsilon` is not a finite number > 0, or the ring has no node
    /// with weight > 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_cluster::{BoundedLoads, HashRing};
    ///
    /// let ring = HashRing::new(["a"])?;
    /// assert!(BoundedLoads::new(&ring, f64::NAN).is_err());
    /// assert!(BoundedLoads::new(&ring, -0.5).is_err());
    /// assert!(BoundedLoads::new(&ring, 0.1).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(ring: &'a HashRing<N>, epsilon: f64) -> Result<Self, BoundedLoadsError> {
        if !epsilon.is_finite() || epsilon <= 0.0 {
            return Err(BoundedLoadsError::new(BoundedLoadsErrorKind::InvalidEpsilon { epsilon }));
        }
        if ring.total_points() == 0 {
            return Err(BoundedLoadsError::new(BoundedLoadsErrorKind::NoNodes));
        }
        Ok(Self {
            ring,
            epsilon,
            loads: vec![0; ring.len()],
            assigned: 0,
            total_points: ring.total_points() as f64,
        })
    }

    /// The most keys node `i` may hold once `m` keys are assigned.
    fn capacity(&self, i: usize, m: u64) -> u64 {
        let share = f64::from(self.ring.members()[i].points) / self.total_points;
        ((1.0 + self.epsilon) * m as f64 * share).ceil() as u64
    }

    /// Assigns `key` and returns its node.
    ///
    /// ```
    /// use pool_cluster::{BoundedLoads, HashRing};
    ///
    /// let ring = HashRing::new(["a", "b"])?;
    /// let mut loads = BoundedLoads::new(&ring, 0.5)?;
    /// // The first key always goes to its ring owner (capacity ⌈1.5 × 1 × ½⌉ = 1).
    /// assert_eq!(loads.assign("k"), ring.get("k")?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn assign<K: AsRef<[u8]> + ?Sized>(&mut self, key: &K) -> &'a N {
        self.assign_hash(key_hash(key))
    }

    /// Assigns a key whose [`key_hash`](crate::key_hash) is `hash`.
    ///
    /// ```
    /// use pool_cluster::{key_hash, BoundedLoads, HashRing};
    ///
    /// let ring = HashRing::new(["a", "b"])?;
    /// let mut loads = BoundedLoads::new(&ring, 0.5)?;
    /// assert_eq!(loads.assign_hash(key_hash("k")), ring.get("k")?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn assign_hash(&mut self, hash: u64) -> &'a N {
        let m = self.assigned + 1;
        let members = self.ring.members();
        let points = self.ring.point_array();
        // `new` checked the ring has points, so this is `Ok`; 0 keeps it total.
        let start = self.ring.start_slot(hash).unwrap_or(0);
        let mut chosen = None;
        let n = points.len();
        let mut i = start;
        for _ in 0..n {
            let owner = self.ring.owner_of_point(i);
            if self.loads[owner] < self.capacity(owner, m) {
                chosen = Some(owner);
                break;
            }
            i += 1;
            if i == n {
                i = 0;
            }
        }
        // Unreachable by the counting argument in the type's docs; if float rounding ever
        // defeated it, the least loaded node (relative to its points) takes the key.
        let owner = chosen.unwrap_or_else(|| {
            (0..members.len())
                .filter(|&j| members[j].points > 0)
                .min_by(|&a, &b| {
                    let la = self.loads[a] as f64 / f64::from(members[a].points);
                    let lb = self.loads[b] as f64 / f64::from(members[b].points);
                    la.total_cmp(&lb)
                })
                .unwrap_or(0)
        });
        self.loads[owner] += 1;
        self.assigned = m;
        &members[owner].node
    }

    /// Keys assigned so far.
    ///
    /// ```
    /// # let ring = pool_cluster::HashRing::new(["a"])?;
    /// let mut loads = pool_cluster::BoundedLoads::new(&ring, 1.0)?;
    /// loads.assign("x");
    /// assert_eq!(loads.assigned(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn assigned(&self) -> u64 {
        self.assigned
    }

    /// ε, as given.
    ///
    /// ```
    /// # let ring = pool_cluster::HashRing::new(["a"])?;
    /// assert_eq!(pool_cluster::BoundedLoads::new(&ring, 0.3)?.epsilon(), 0.3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// Each node (in id order) with the keys assigned to it.
    ///
    /// ```
    /// # let ring = pool_cluster::HashRing::new(["a", "b"])?;
    /// let mut loads = pool_cluster::BoundedLoads::new(&ring, 1.0)?;
    /// loads.assign("x");
    /// assert_eq!(loads.loads().map(|(_, l)| l).sum::<u64>(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn loads(&self) -> impl ExactSizeIterator<Item = (&'a N, u64)> + '_ {
        self.ring.members().iter().zip(&self.loads).map(|(m, &l)| (&m.node, l))
    }

    /// The current bound of each node (in id order): `⌈(1+ε) · m · wᵢ / Σw⌉` for the `m`
    /// keys assigned so far.
    ///
    /// ```
    /// # let ring = pool_cluster::HashRing::new(["a", "b"])?;
    /// let mut loads = pool_cluster::BoundedLoads::new(&ring, 0.5)?;
    /// (0..10).for_each(|i| { loads.assign(&i.to_string()); });
    /// assert_eq!(loads.capacities().collect::<Vec<_>>(), [8, 8]); // ⌈1.5 × 10 × ½⌉
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn capacities(&self) -> impl ExactSizeIterator<Item = u64> + '_ {
        (0..self.loads.len()).map(|i| self.capacity(i, self.assigned))
    }
}
