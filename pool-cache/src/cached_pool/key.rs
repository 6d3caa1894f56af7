//! Content keys: blake3 over the function's name, its version and the postcard-encoded input.

use serde::Serialize;

/// Bumped only if the key derivation itself changes (every cached value then misses).
const KEY_DOMAIN: &[u8] = b"pool-cache/cached-pool/v1\0";

/// The 32-byte content key of one call. The same in every process and release: blake3 is a
/// fixed function, postcard a stable format, and the name's length goes in first so that
/// `("ab", input)` and `("a", b"b" + input)` never collide.
pub(crate) fn content_key<I: Serialize + ?Sized>(
    name: &str,
    version: u32,
    input: &I,
) -> Result<[u8; 32], postcard::Error> {
    let bytes = postcard::to_allocvec(input)?;
    let mut h = blake3::Hasher::new();
    h.update(KEY_DOMAIN);
    h.update(&(name.len() as u64).to_le_bytes());
    h.update(name.as_bytes());
    h.update(&version.to_le_bytes());
    h.update(&bytes);
    Ok(*h.finalize().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_pinned() {
        // A golden vector: every process and every release must derive this same key.
        let k = content_key("square", 1, &7u64).unwrap_or_else(|e| panic!("{e}"));
        let again = content_key("square", 1, &7u64).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(k, again);
        assert_eq!(
            blake3::Hash::from(k).to_hex().as_str(),
            GOLDEN,
            "the content key derivation changed: every cached value would miss"
        );
        assert_ne!(k, content_key("square", 2, &7u64).unwrap_or_else(|e| panic!("{e}")));
        assert_ne!(k, content_key("squar", 1, &7u64).unwrap_or_else(|e| panic!("{e}")));
        assert_ne!(k, content_key("square", 1, &8u64).unwrap_or_else(|e| panic!("{e}")));
    }

    const GOLDEN: &str = "c81587a185c05fe191f88115ba084459e5dd354bdbd7a285b47ae726ed577c86";
}
