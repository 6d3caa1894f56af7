//! The keys every ring measurement uses.

/// `n` distinct 24-byte keys (a counter and a seeded mix, spelled as bytes), the same in
/// every run.
///
/// ```
/// let keys = pool_benches::ringsim::keys_24(1000, 7);
/// assert_eq!(keys.len(), 1000);
/// assert_ne!(keys[0], keys[1]);
/// assert_eq!(keys, pool_benches::ringsim::keys_24(1000, 7));
/// ```
#[must_use]
pub fn keys_24(n: usize, seed: u64) -> Vec<[u8; 24]> {
    (0..n as u64)
        .map(|i| {
            let mut z = i.wrapping_add(seed).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 31)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            let mut key = [0u8; 24];
            key[..8].copy_from_slice(&i.to_le_bytes());
            key[8..16].copy_from_slice(&z.to_le_bytes());
            key[16..].copy_from_slice(&(z ^ seed).rotate_left(17).to_le_bytes());
            key
        })
        .collect()
}
