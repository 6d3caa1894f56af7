//! One `ringsim` run: balance, movement on one join and one leave, and lookup cost.

use std::fmt;
use std::hint::black_box;
use std::time::Instant;

use pool_cluster::{HashRing, RingDiff};
use serde::Serialize;

use super::anchor::HashringAnchor;
use super::keys::keys_24;

/// What to simulate. Nodes are named `node-0 .. node-{n-1}`; the joining node is `node-{n}`
/// (with the mean weight) and the leaving node is the first one with a weight above 0.
///
/// ```
/// use pool_benches::ringsim::RingSim;
///
/// let sim = RingSim { nodes: 20, vnodes: 160, keys: 20_000, timing_rounds: 1, ..RingSim::default() };
/// let report = sim.run()?;
/// assert_eq!(report.moved_between_survivors, 0);
/// assert!(report.peak_to_mean >= 1.0);
/// # Ok::<(), pool_benches::ringsim::RingSimError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RingSim {
    /// Nodes on the ring (at least 2: a leave needs a survivor).
    pub nodes: usize,
    /// Virtual nodes per unit of weight.
    pub vnodes: u32,
    /// One weight per node; `None` for all 1.
    pub weights: Option<Vec<f64>>,
    /// Replicas per key for the `get_n` timing (1: none).
    pub replicas: usize,
    /// Keys looked up and counted for movement.
    pub keys: usize,
    /// Timing rounds over all keys, in chunks of 1024 that alternate between ours and hashring;
    /// the median over all chunks is reported.
    pub timing_rounds: usize,
}

impl Default for RingSim {
    fn default() -> Self {
        Self {
            nodes: 100,
            vnodes: 160,
            weights: None,
            replicas: 1,
            keys: 100_000,
            timing_rounds: 7,
        }
    }
}

/// Settings `ringsim` cannot run with.
///
/// ```
/// use pool_benches::ringsim::RingSim;
///
/// let err = RingSim { nodes: 1, ..RingSim::default() }.run().unwrap_err();
/// assert_eq!(err.to_string(), "--nodes must be >= 2 (a leave needs a survivor), got 1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingSimError {
    reason: String,
}

impl fmt::Display for RingSimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for RingSimError {}

fn err(reason: impl Into<String>) -> RingSimError {
    RingSimError { reason: reason.into() }
}

/// The results, in the order of `../shared/DESIGN.md` §4 (outside this repository)'s `--json` contract, then extras.
#[derive(Debug, Clone, Serialize)]
pub struct RingReport {
    /// Nodes on the ring.
    pub nodes: usize,
    /// Virtual nodes per unit of weight.
    pub vnodes: u32,
    /// The largest exact hash-space share over its fair share (weight / total weight).
    pub peak_to_mean: f64,
    /// Keys moved by one join, as a fraction of all keys, over the ideal (the joiner's fair
    /// share).
    pub moved_on_join_vs_ideal: f64,
    /// Keys moved by one leave, over the ideal (the leaver's fair share).
    pub moved_on_leave_vs_ideal: f64,
    /// Keys that changed owner between two nodes that neither joined nor left (must be 0).
    pub moved_between_survivors: u64,
    /// Median (over chunks of 1024 keys) ns per `HashRing::get` of a 24-byte key, hashing
    /// included.
    pub lookup_ns: f64,
    /// Median ns per `hashring::HashRing::get` on the same keys and point count.
    pub hashring_lookup_ns: f64,
    /// Replicas per key for the `get_n` figures.
    pub replicas: usize,
    /// Keys simulated.
    pub keys: usize,
    /// Exact hash-space share moved by the join, over the ideal.
    pub hash_space_moved_on_join_vs_ideal: f64,
    /// Exact hash-space share moved by the leave, over the ideal.
    pub hash_space_moved_on_leave_vs_ideal: f64,
    /// Median ns per `get_n(key, replicas)` into a reused buffer (with `replicas > 1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub get_n_ns: Option<f64>,
    /// Median ns per `hashring` `get_with_replicas(key, replicas - 1)` (with `replicas > 1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hashring_get_with_replicas_ns: Option<f64>,
    /// Fraction of `hashring` replica sets that name a physical node twice (with
    /// `replicas > 1`); ours is 0 by construction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hashring_repeated_replica_fraction: Option<f64>,
    /// Per node, `node-0` first: (name, exact share, fair share), for the table and the plot.
    #[serde(skip)]
    pub shares: Vec<(String, f64, f64)>,
}

/// Keys per timed chunk.
const TIMED_CHUNK: usize = 1024;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

impl RingSim {
    fn weights(&self) -> Result<Vec<f64>, RingSimError> {
        if self.nodes < 2 {
            return Err(err(format!(
                "--nodes must be >= 2 (a leave needs a survivor), got {}",
                self.nodes
            )));
        }
        if self.vnodes == 0 {
            return Err(err("--vnodes must be > 0, got 0"));
        }
        if self.replicas == 0 {
            return Err(err("--replicas must be > 0, got 0"));
        }
        if self.keys == 0 {
            return Err(err("--keys must be > 0, got 0"));
        }
        let weights = self.weights.clone().unwrap_or_else(|| vec![1.0; self.nodes]);
        if weights.len() != self.nodes {
            return Err(err(format!(
                "--weights has {} values but --nodes is {}: give one weight per node",
                weights.len(),
                self.nodes
            )));
        }
        if let Some(w) = weights.iter().find(|w| !w.is_finite() || **w < 0.0) {
            return Err(err(format!(
                "--weights: each weight must be a finite number >= 0, got {w}"
            )));
        }
        let live = weights.iter().filter(|&&w| (f64::from(self.vnodes) * w).round() >= 1.0).count();
        if live < 2 {
            return Err(err(
                "--weights: at least two nodes need a weight giving >= 1 virtual node (a leave needs a survivor)",
            ));
        }
        Ok(weights)
    }

    /// Runs the simulation.
    ///
    /// # Errors
    ///
    /// A [`RingSimError`] naming the flag to fix.
    pub fn run(&self) -> Result<RingReport, RingSimError> {
        let weights = self.weights()?;
        let names: Vec<String> = (0..self.nodes).map(|i| format!("node-{i}")).collect();
        let ring = names
            .iter()
            .zip(&weights)
            .fold(HashRing::builder().vnodes(self.vnodes), |b, (n, &w)| b.node(n.clone(), w))
            .build()
            .map_err(|e| err(format!("cannot build the ring: {e}")))?;
        let total: f64 = weights.iter().sum();

        // Balance: exact shares against fair shares, in node order (`shares()` is in id order).
        let mut shares: Vec<(String, f64, f64)> =
            names.iter().zip(&weights).map(|(n, &w)| (n.clone(), 0.0, w / total)).collect();
        for ((name, _), share) in ring.nodes().zip(ring.shares()) {
            if let Some(i) = names.iter().position(|n| n == name) {
                shares[i].1 = share;
            }
        }
        let peak_to_mean = shares
            .iter()
            .filter(|(_, _, fair)| *fair > 0.0)
            .map(|(_, s, fair)| s / fair)
            .fold(0.0, f64::max);

        // One join (mean weight) and one leave (the first node with points).
        let joiner = format!("node-{}", self.nodes);
        let join_weight = total / self.nodes as f64;
        let mut joined = ring.clone();
        joined.add(joiner.clone(), join_weight).map_err(|e| err(format!("cannot join: {e}")))?;
        let leaver_at =
            weights.iter().position(|&w| (f64::from(self.vnodes) * w).round() >= 1.0).unwrap_or(0);
        let leaver = names[leaver_at].clone();
        let mut left = ring.clone();
        left.remove(&leaver).map_err(|e| err(format!("cannot leave: {e}")))?;
        let ideal_join = join_weight / (total + join_weight);
        let ideal_leave = weights[leaver_at] / total;

        let keys = keys_24(self.keys, 0x0005_EED5);
        let (mut moved_join, mut moved_leave, mut between) = (0u64, 0u64, 0u64);
        for key in &keys {
            let owner = ring.get(key).map_err(|e| err(e.to_string()))?;
            let j = joined.get(key).map_err(|e| err(e.to_string()))?;
            let l = left.get(key).map_err(|e| err(e.to_string()))?;
            if owner != j {
                moved_join += 1;
                between += u64::from(*j != joiner);
            }
            if owner != l {
                moved_leave += 1;
                between += u64::from(*owner != leaver);
            }
        }
        let n_keys = keys.len() as f64;
        let exact = |a: &HashRing<String>, b: &HashRing<String>| {
            RingDiff::new(a, b).map(|d| d.moved_fraction()).map_err(|e| err(e.to_string()))
        };
        let exact_join = exact(&ring, &joined)?;
        let exact_leave = exact(&ring, &left)?;

        // Lookups in chunks of TIMED_CHUNK keys, alternating with the anchor chunk by chunk,
        // medians over all chunks of all rounds: a chunk (~10 µs) rarely spans a preemption, so
        // the medians are on-CPU costs even on a busy machine, and noise hits both alike.
        let counts: Vec<u32> = names.iter().map(|n| ring.points_of(n).unwrap_or(0)).collect();
        let anchor = HashringAnchor::with_counts(&counts);
        let rounds = self.timing_rounds.max(1);
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            for chunk in keys.chunks(TIMED_CHUNK) {
                ours.push(time_per_key(chunk, |k| ring.get(k).map_or(0, String::len)));
                theirs.push(time_per_key(chunk, |k| anchor.get(k).map_or(0, |n| n as usize)));
            }
        }
        let (mut get_n_ns, mut their_get_n_ns, mut repeated) = (None, None, None);
        if self.replicas > 1 {
            let r = self.replicas;
            let mut out = Vec::with_capacity(r);
            // hashring clones its whole ring per call: time it on fewer keys.
            let few = &keys[..keys.len().min(2_000)];
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for _ in 0..rounds {
                for chunk in keys.chunks(TIMED_CHUNK) {
                    a.push(time_per_key(chunk, |k| {
                        ring.get_n(k, r, &mut out).map_or(0, |()| out.len())
                    }));
                }
                for chunk in few.chunks(4) {
                    b.push(time_per_key(chunk, |k| anchor.get_with_replicas(k, r).len()));
                }
            }
            get_n_ns = Some(median(a));
            their_get_n_ns = Some(median(b));
            let sample = &keys[..keys.len().min(500)];
            let dup = sample
                .iter()
                .filter(|k| {
                    let mut v = anchor.get_with_replicas(k, r);
                    let len = v.len();
                    v.sort_unstable();
                    v.dedup();
                    v.len() < len
                })
                .count();
            repeated = Some(dup as f64 / sample.len() as f64);
        }

        Ok(RingReport {
            nodes: self.nodes,
            vnodes: self.vnodes,
            peak_to_mean,
            moved_on_join_vs_ideal: moved_join as f64 / n_keys / ideal_join,
            moved_on_leave_vs_ideal: moved_leave as f64 / n_keys / ideal_leave,
            moved_between_survivors: between,
            lookup_ns: median(ours),
            hashring_lookup_ns: median(theirs),
            replicas: self.replicas,
            keys: self.keys,
            hash_space_moved_on_join_vs_ideal: exact_join / ideal_join,
            hash_space_moved_on_leave_vs_ideal: exact_leave / ideal_leave,
            get_n_ns,
            hashring_get_with_replicas_ns: their_get_n_ns,
            hashring_repeated_replica_fraction: repeated,
            shares,
        })
    }
}

/// Wall-clock ns per key of `f` over `keys`.
fn time_per_key<K>(keys: &[K], mut f: impl FnMut(&K) -> usize) -> f64 {
    let start = Instant::now();
    let mut sink = 0usize;
    for k in keys {
        sink = sink.wrapping_add(f(black_box(k)));
    }
    black_box(sink);
    start.elapsed().as_nanos() as f64 / keys.len() as f64
}
