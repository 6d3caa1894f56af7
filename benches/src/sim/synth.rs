//! Synthetic traces, one per workload family on which some simple policy is known to win or to
//! collapse, so that a default policy can be judged on families rather than on a few real
//! traces (the hidden suite it must generalize to is not available).
//!
//! Every family is deterministic for a seed, at most [`MAX_REQUESTS`] requests, and comes with
//! the capacities it is meant to be replayed at ([`Family::capacities`]). `cachesim` replays
//! them as `synth:NAME` (`cachesim synth:burst`), and `benches/tests/cachesim/families.rs`
//! asserts that the default policy stays near the best simple policy on each.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Geometric, Zipf};

/// Requests per synthetic trace at most (the CI budget: debug builds replay these).
///
/// ```
/// use pool_benches::sim::synth::{Family, MAX_REQUESTS};
/// assert_eq!(Family::Loop.generate(1).len(), MAX_REQUESTS);
/// ```
pub const MAX_REQUESTS: usize = 200_000;

/// A synthetic workload family.
///
/// ```
/// use pool_benches::sim::synth::Family;
///
/// let f: Family = "burst".parse()?;
/// let keys = f.generate(1);
/// assert!(keys.len() <= pool_benches::sim::synth::MAX_REQUESTS);
/// assert_eq!(keys, f.generate(1), "deterministic per seed");
/// # Ok::<(), pool_benches::sim::synth::UnknownFamily>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Family {
    /// A loop over 1,200 keys replayed at 1,000: LRU and FIFO hit nothing, a frequency filter
    /// that keeps a fixed set resident hits ~80%.
    Loop,
    /// A loop twice the cache (2,000 keys at 1,000): OPT ~50%, LRU 0.
    LoopLong,
    /// A short loop: 2,000 keys replayed 5 times at 500 (10,000 requests), as in the short
    /// LIRS traces. OPT 20%; W-TinyLFU loses a quarter of that to an admission wave (see
    /// `pool-cache/src/l1/POLICY.md`).
    LoopShort,
    /// cscope-like: a loop over 1,500 keys with short random skips ahead and 10% of requests to
    /// a small hot set.
    Cscope,
    /// Short bursts: each key is requested 2–5 times within a few hundred requests, then never
    /// again. LRU is optimal; a frequency filter with a small window collapses.
    Burst,
    /// A scan back and forth over 750 keys (0, 1, .., 749, 749, .., 0, 0, ..), like LIRS's
    /// backf: every key equally frequent, LRU optimal (it hits the turn), a frequency filter
    /// with a small window hits nothing.
    BackForth,
    /// Recency-heavy: 80% of requests repeat a key from a recent request (geometric distance,
    /// mean 150), the rest are new keys. LRU-friendly.
    Recency,
    /// Frequency-heavy: a fixed Zipf(0.8) popularity over 20,000 keys, 30% one-hit wonders.
    Frequency,
    /// Zipf over 100,000 keys with skew 0.6.
    Zipf06,
    /// Zipf over 100,000 keys with skew 0.9.
    Zipf09,
    /// Zipf over 100,000 keys with skew 1.2.
    Zipf12,
    /// Phase changes: Zipf(0.9) over 5,000 keys whose key range moves every 40,000 requests.
    Phases,
    /// A Zipf(0.9) hot set over 5,000 keys broken every 20,000 requests by a scan of 4,000
    /// never-repeated keys.
    ScanHot,
    /// Alternating regimes of 40,000 requests: recency-heavy, then frequency-heavy.
    Mixed,
}

impl Family {
    /// Every family.
    ///
    /// ```
    /// use pool_benches::sim::synth::Family;
    /// let names: Vec<&str> = Family::ALL.iter().map(|f| f.name()).collect();
    /// assert!(names.contains(&"back-forth"));
    /// ```
    pub const ALL: [Family; 14] = [
        Family::Loop,
        Family::LoopLong,
        Family::LoopShort,
        Family::Cscope,
        Family::Burst,
        Family::BackForth,
        Family::Recency,
        Family::Frequency,
        Family::Zipf06,
        Family::Zipf09,
        Family::Zipf12,
        Family::Phases,
        Family::ScanHot,
        Family::Mixed,
    ];

    /// The name `cachesim` takes after `synth:`.
    ///
    /// ```
    /// assert_eq!(pool_benches::sim::synth::Family::LoopLong.name(), "loop-long");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Family::Loop => "loop",
            Family::LoopLong => "loop-long",
            Family::LoopShort => "loop-short",
            Family::Cscope => "cscope",
            Family::Burst => "burst",
            Family::BackForth => "back-forth",
            Family::Recency => "recency",
            Family::Frequency => "frequency",
            Family::Zipf06 => "zipf-0.6",
            Family::Zipf09 => "zipf-0.9",
            Family::Zipf12 => "zipf-1.2",
            Family::Phases => "phases",
            Family::ScanHot => "scan-hot",
            Family::Mixed => "mixed",
        }
    }

    /// The capacities the family is meant for.
    ///
    /// ```
    /// assert_eq!(pool_benches::sim::synth::Family::Loop.capacities(), &[1000]);
    /// ```
    pub fn capacities(self) -> &'static [usize] {
        match self {
            Family::Loop | Family::LoopLong | Family::Cscope => &[1000],
            Family::Burst => &[100, 250],
            Family::BackForth => &[200],
            Family::LoopShort => &[500],
            Family::Recency => &[100, 500],
            Family::Frequency | Family::Zipf06 | Family::Zipf09 | Family::Zipf12 => &[1000],
            Family::Phases | Family::ScanHot | Family::Mixed => &[1000],
        }
    }

    /// The family's trace for `seed`.
    ///
    /// ```
    /// use pool_benches::sim::synth::Family;
    /// let keys = Family::Loop.generate(0);
    /// assert_eq!(&keys[..3], &[0, 1, 2]);
    /// ```
    pub fn generate(self, seed: u64) -> Vec<u64> {
        // Seeded by name, so that adding a family never changes another's trace.
        let name = self.name().bytes().fold(0xCBF2_9CE4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
        });
        let mut rng = StdRng::seed_from_u64(seed ^ name);
        let n = MAX_REQUESTS;
        match self {
            Family::Loop => (0..n as u64).map(|i| i % 1200).collect(),
            Family::LoopLong => (0..n as u64).map(|i| i % 2000).collect(),
            Family::LoopShort => (0..10_000u64).map(|i| i % 2000).collect(),
            Family::Cscope => cscope(&mut rng, n),
            Family::Burst => burst(&mut rng, n),
            Family::BackForth => (0..n as u64)
                .map(|i| if (i / 750) % 2 == 0 { i % 750 } else { 749 - i % 750 })
                .collect(),
            Family::Recency => recency(&mut rng, n, 0.8, 150.0, 0),
            Family::Frequency => frequency(&mut rng, n, 0),
            Family::Zipf06 => zipf(&mut rng, n, 100_000, 0.6, 0),
            Family::Zipf09 => zipf(&mut rng, n, 100_000, 0.9, 0),
            Family::Zipf12 => zipf(&mut rng, n, 100_000, 1.2, 0),
            Family::Phases => (0..n / 40_000)
                .flat_map(|p| zipf(&mut rng, 40_000, 5_000, 0.9, p as u64 * 1_000_000))
                .collect(),
            Family::ScanHot => scan_hot(&mut rng, n),
            Family::Mixed => (0..n / 40_000)
                .flat_map(|p| {
                    let base = p as u64 * 10_000_000;
                    if p % 2 == 0 {
                        recency(&mut rng, 40_000, 0.8, 150.0, base)
                    } else {
                        frequency(&mut rng, 40_000, base)
                    }
                })
                .collect(),
        }
    }
}

fn zipf(rng: &mut StdRng, n: usize, keys: u64, skew: f64, base: u64) -> Vec<u64> {
    let d = Zipf::new(keys as f64, skew).unwrap_or_else(|_| unreachable!("valid parameters"));
    // Scatter the ranks so that popularity is not the key order.
    (0..n).map(|_| base + scatter(d.sample(rng) as u64 - 1)).collect()
}

/// A bijection on u64 (odd multiplier), so ranks map to distinct keys in no useful order.
fn scatter(rank: u64) -> u64 {
    rank.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20
}

fn cscope(rng: &mut StdRng, n: usize) -> Vec<u64> {
    let mut pos = 0u64;
    (0..n)
        .map(|_| {
            if rng.random_bool(0.1) {
                return 1_000_000 + rng.random_range(0..50u64);
            }
            pos = (pos + if rng.random_bool(0.05) { rng.random_range(2..20) } else { 1 }) % 1500;
            pos
        })
        .collect()
}

fn burst(rng: &mut StdRng, n: usize) -> Vec<u64> {
    // Events (time, key): key k starts at time k and comes back 1-4 more times, each after a
    // gap of 1..60 time units; about 3.5 events per time unit, so reuse distances are up to a
    // few hundred requests.
    let mut heap = BinaryHeap::new();
    let mut out = Vec::with_capacity(n);
    let mut key = 0u64;
    let mut t = 0u64;
    while out.len() < n {
        heap.push(Reverse((t, key, rng.random_range(1..=4u32))));
        key += 1;
        t += 1;
        while let Some(&Reverse((due, k, left))) = heap.peek() {
            if due > t || out.len() >= n {
                break;
            }
            heap.pop();
            out.push(k);
            if left > 0 {
                heap.push(Reverse((due + rng.random_range(1..60u64), k, left - 1)));
            }
        }
    }
    out
}

fn recency(rng: &mut StdRng, n: usize, reuse: f64, mean_distance: f64, base: u64) -> Vec<u64> {
    let gap = Geometric::new(1.0 / mean_distance).unwrap_or_else(|_| unreachable!("valid p"));
    let mut out: Vec<u64> = Vec::with_capacity(n);
    let mut next = base;
    for _ in 0..n {
        let d = gap.sample(rng) as usize + 1;
        if rng.random_bool(reuse) && d <= out.len() {
            out.push(out[out.len() - d]);
        } else {
            out.push(next);
            next += 1;
        }
    }
    out
}

fn frequency(rng: &mut StdRng, n: usize, base: u64) -> Vec<u64> {
    let d = Zipf::new(20_000.0, 0.8).unwrap_or_else(|_| unreachable!("valid parameters"));
    let mut wonder = base + (1 << 40);
    (0..n)
        .map(|_| {
            if rng.random_bool(0.3) {
                wonder += 1;
                wonder
            } else {
                base + scatter(d.sample(rng) as u64 - 1)
            }
        })
        .collect()
}

fn scan_hot(rng: &mut StdRng, n: usize) -> Vec<u64> {
    let d = Zipf::new(5_000.0, 0.9).unwrap_or_else(|_| unreachable!("valid parameters"));
    let mut scan = 1u64 << 40;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        for _ in 0..20_000 {
            out.push(scatter(d.sample(rng) as u64 - 1));
        }
        for _ in 0..4_000 {
            out.push(scan);
            scan += 1;
        }
    }
    out.truncate(n);
    out
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a [`Family`].
///
/// ```
/// let err = "nope".parse::<pool_benches::sim::synth::Family>().unwrap_err();
/// assert!(err.to_string().starts_with("unknown synthetic family \"nope\""));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFamily(String);

impl fmt::Display for UnknownFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Family::ALL.iter().map(|f| f.name()).collect();
        write!(f, "unknown synthetic family {:?}; expected one of {}", self.0, names.join(", "))
    }
}

impl std::error::Error for UnknownFamily {}

impl std::str::FromStr for Family {
    type Err = UnknownFamily;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Family::ALL.into_iter().find(|f| f.name() == s).ok_or_else(|| UnknownFamily(s.to_owned()))
    }
}
