//! The work: Zipf-distributed keys, and a CPU-heavy computation per key.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Zipf};

/// The computation's result: a 32-byte blake3 digest.
pub type Digest = [u8; 32];

/// Rounds of the hash chain per computation: about 0.1 ms of one core in a release build
/// (blake3 of 32 bytes is ~50 ns here), so a computation costs ten times an L2 read from the
/// redb file and memoizing it pays.
pub const WORK_ROUNDS: u32 = 2_000;

/// The expensive, deterministic computation the pipeline memoizes: a blake3 hash chain of
/// [`WORK_ROUNDS`] rounds seeded by the key (the shape of a password hash or a proof of work).
///
/// ```
/// use pool_examples::pipeline::compute;
/// assert_eq!(compute(7), compute(7));
/// assert_ne!(compute(7), compute(8));
/// ```
#[must_use]
pub fn compute(key: u64) -> Digest {
    let mut h = *blake3::hash(&key.to_le_bytes()).as_bytes();
    for _ in 1..WORK_ROUNDS {
        h = *blake3::hash(&h).as_bytes();
    }
    h
}

/// One client's stream of keys in `0..keys`, Zipf(s)-distributed (key 0 the most popular), from
/// a fixed seed: the same flags give the same stream, so a second run asks for the same keys.
///
/// ```
/// use pool_examples::pipeline::KeyStream;
/// let a: Vec<u64> = KeyStream::new(100, 1.0, 0)?.take(5).collect();
/// let b: Vec<u64> = KeyStream::new(100, 1.0, 0)?.take(5).collect();
/// assert_eq!(a, b);
/// assert!(a.iter().all(|&k| k < 100));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct KeyStream {
    zipf: Zipf<f64>,
    rng: StdRng,
}

impl KeyStream {
    /// A stream over `keys` keys with exponent `s`, seeded by `seed`.
    ///
    /// # Errors
    ///
    /// A message when `keys` is 0 or `s` is not a finite number > 0.
    pub fn new(keys: u64, s: f64, seed: u64) -> Result<Self, String> {
        if keys == 0 {
            return Err("the key space must hold at least one key, got 0".into());
        }
        if !(s.is_finite() && s > 0.0) {
            return Err(format!("the zipf exponent must be a finite number > 0, got {s}"));
        }
        let zipf = Zipf::new(keys as f64, s).map_err(|e| format!("bad zipf settings: {e}"))?;
        Ok(Self { zipf, rng: StdRng::seed_from_u64(seed) })
    }
}

impl Iterator for KeyStream {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        // Zipf samples 1..=keys as floats; key = rank - 1.
        Some(self.zipf.sample(&mut self.rng) as u64 - 1)
    }
}
