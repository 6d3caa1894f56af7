//! The two hashes every process must agree on (DESIGN.md §7, "two hashes with two jobs").
//!
//! - Keys are hashed on every lookup with **xxh3-64** and the fixed seed [`KEY_SEED`]: about
//!   3 ns for a 24-byte key, where blake3 costs about 60 ns.
//! - Node points (virtual nodes) are derived once per change with **blake3** in key-derivation
//!   mode: the node id is the input, the output stream is cut into little-endian `u64`s. Point
//!   `j` of a node is the same whatever the weight, so raising a weight only adds points.
//!
//! Both are pinned by golden-vector tests; changing either moves keys between nodes in every
//! deployment, so it would be a breaking change.

/// The seed of the key hash. Changing it moves every key: never do.
pub const KEY_SEED: u64 = 0x706f_6f6c_2d72_696e; // "pool-rin"

/// blake3's key-derivation context for node points; part of the placement contract.
const POINT_CONTEXT: &str = "pool-cluster 2026-12 ring node points v1";

/// blake3's key-derivation context for rendezvous node seeds.
const SEED_CONTEXT: &str = "pool-cluster 2026-12 rendezvous node seed v1";

/// Hashes a key the way every lookup does: xxh3-64 with [`KEY_SEED`].
///
/// ```
/// use pool_cluster::{key_hash, HashRing};
///
/// let ring = HashRing::new(["a", "b", "c"])?;
/// assert_eq!(ring.get("user:42")?, ring.get_by_hash(key_hash("user:42"))?);
/// assert_eq!(key_hash(b"user:42"), key_hash("user:42"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
#[inline]
pub fn key_hash<K: AsRef<[u8]> + ?Sized>(key: &K) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(key.as_ref(), KEY_SEED)
}

/// Appends the first `count` points of the node `id` to `out`.
pub(crate) fn node_points(id: &[u8], count: usize, out: &mut Vec<u64>) {
    let mut hasher = blake3::Hasher::new_derive_key(POINT_CONTEXT);
    hasher.update(id);
    let mut reader = hasher.finalize_xof();
    let mut block = [0u8; 64 * 8];
    let mut left = count;
    out.reserve(count);
    while left > 0 {
        let take = left.min(64);
        let bytes = &mut block[..take * 8];
        reader.fill(bytes);
        out.extend(bytes.chunks_exact(8).map(|c| {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            u64::from_le_bytes(b)
        }));
        left -= take;
    }
}

/// The rendezvous seed of node `id`.
pub(crate) fn node_seed(id: &[u8]) -> u64 {
    let mut hasher = blake3::Hasher::new_derive_key(SEED_CONTEXT);
    hasher.update(id);
    let mut b = [0u8; 8];
    hasher.finalize_xof().fill(&mut b);
    u64::from_le_bytes(b)
}

/// A 64-bit finalizer (the one of splitmix64 / murmur3's fmix64 family): a bijection whose
/// every output bit depends on every input bit.
#[inline]
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hash_is_xxh3_with_the_pinned_seed() {
        // xxh3-64 itself: the reference value of the empty input at seed 0.
        assert_eq!(xxhash_rust::xxh3::xxh3_64_with_seed(b"", 0), 0x2d06_8005_38d3_94c2);
        // Our seed, pinned: if these change, every deployment's keys move.
        let got = [key_hash(""), key_hash("user:42"), key_hash(&[0u8, 255, 7][..])];
        assert_eq!(got, GOLDEN_KEYS, "{got:#x?}");
    }

    const GOLDEN_KEYS: [u64; 3] =
        [0x0cfe_5953_e90c_0dcc, 0x67df_1bd5_1ad5_3ae9, 0xd771_7755_db93_5a44];

    #[test]
    fn node_points_are_pinned_and_a_stable_prefix() {
        let mut short = Vec::new();
        let mut long = Vec::new();
        node_points(b"node-1", 3, &mut short);
        node_points(b"node-1", 200, &mut long);
        assert_eq!(short[..], long[..3]);
        assert_eq!(long.len(), 200);
        assert_eq!(short, GOLDEN_POINTS, "{short:#x?}");
        assert_eq!(node_seed(b"node-1"), GOLDEN_SEED, "{:#x}", node_seed(b"node-1"));
    }

    const GOLDEN_POINTS: [u64; 3] =
        [0xad62_505d_b580_7d5a, 0x4ed4_291b_28af_7e8d, 0xbfeb_8868_a758_6e5d];
    const GOLDEN_SEED: u64 = 0xf024_38dd_36c6_3ebf;

    #[test]
    fn mix64_is_a_bijection_on_samples() {
        let mut seen: Vec<u64> = (0..1000u64).map(mix64).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 1000);
        assert_eq!(mix64(0), 0);
    }
}
