//! [`TieredKey`]: how a key becomes the bytes of its L2 key.

use std::hash::Hash;

/// A key a [`TieredCache`](crate::TieredCache) can hold: hashable for the L1 and written as
/// bytes for the L2.
///
/// The bytes must be the same in every process and release (the L2 is shared), so they are
/// written by hand rather than by a hasher: strings as their UTF-8 bytes (so prefix
/// invalidation in the L1 and the L2 agree), integers as decimal digits, byte keys as they are.
///
/// ```
/// use pool_cache::TieredKey;
///
/// let mut out = Vec::new();
/// "user:1".to_string().write_l2_key(&mut out);
/// 42u64.write_l2_key(&mut out);
/// assert_eq!(out, b"user:142");
/// assert_eq!(u64::from_l2_key(b"42"), Some(42));
/// ```
pub trait TieredKey: Hash + Eq + Clone + Send + Sync + 'static {
    /// Appends this key's L2 bytes to `out`.
    fn write_l2_key(&self, out: &mut Vec<u8>);

    /// The key these bytes were written from, if any (read back by the invalidation
    /// broadcast, which names keys by their L2 bytes).
    fn from_l2_key(bytes: &[u8]) -> Option<Self>;
}

impl TieredKey for String {
    fn write_l2_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
    fn from_l2_key(bytes: &[u8]) -> Option<Self> {
        String::from_utf8(bytes.to_vec()).ok()
    }
}

impl TieredKey for Vec<u8> {
    fn write_l2_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn from_l2_key(bytes: &[u8]) -> Option<Self> {
        Some(bytes.to_vec())
    }
}

impl<const N: usize> TieredKey for [u8; N] {
    fn write_l2_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn from_l2_key(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok()
    }
}

macro_rules! int_key {
    ($($t:ty),*) => {$(
        impl TieredKey for $t {
            fn write_l2_key(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(self.to_string().as_bytes());
            }
            fn from_l2_key(bytes: &[u8]) -> Option<Self> {
                std::str::from_utf8(bytes).ok()?.parse().ok()
            }
        }
    )*};
}
int_key!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);
