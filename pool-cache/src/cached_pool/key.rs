//! Content keys: blake3 over the function's name, its version and the postcard-encoded input.

use serde::Serialize;

/// Bumped only if the key derivation itself changes (every cached value then misses).
const KEY_DOMAIN: &[u8] = b"pool-cache/cached-pool/v1\0";

/// The 32-byte content key of one call. The same in every process and release: blake3 is a
/// fixed function, postcard a stable format, and the name's length goes in first so that
/// `("ab", input)` and `("a", b"b" + input)` never collide.
///
/// The bytes are gathered in a stack buffer and hashed in one `blake3::hash` call, which for
/// short inputs skips the streaming `Hasher` (a ~1.9 KB struct whose setup and moves cost more
/// than hashing a short key); longer inputs spill into a `Hasher`. Same bytes, same key either
/// way. `cargo bench -p pool-benches --bench tiered -- cached_pool_hit`, whose anchor is a
/// bare L1 `get`: a hit cost 18.5x the anchor when the input went into a `Vec` and a `Hasher`,
/// 15.3x with this (two runs, one before and one after the change).
pub(crate) fn content_key<I: Serialize + ?Sized>(
    name: &str,
    version: u32,
    input: &I,
) -> Result<[u8; 32], postcard::Error> {
    use postcard::ser_flavors::Flavor;
    let mut state = KeyBytes { buf: [0; BUF], len: 0, spilled: None };
    let mut sink = Sink(&mut state);
    sink.try_extend(KEY_DOMAIN)?;
    sink.try_extend(&(name.len() as u64).to_le_bytes())?;
    sink.try_extend(name.as_bytes())?;
    sink.try_extend(&version.to_le_bytes())?;
    postcard::serialize_with_flavor(input, sink)?;
    let tail = &state.buf[..state.len];
    Ok(match state.spilled {
        None => *blake3::hash(tail).as_bytes(),
        Some(mut h) => *h.update(tail).finalize().as_bytes(),
    })
}

/// The stack buffer: two blake3 blocks (zeroing a whole 1 KiB chunk cost more than it saved).
const BUF: usize = 128;

/// The key's bytes so far: in the buffer, or (past [`BUF`]) streamed into a hasher with the
/// buffer holding what has not been hashed yet.
struct KeyBytes {
    buf: [u8; BUF],
    len: usize,
    spilled: Option<blake3::Hasher>,
}

/// A postcard output into [`KeyBytes`] (a reference: postcard moves its output around).
struct Sink<'a>(&'a mut KeyBytes);

impl postcard::ser_flavors::Flavor for Sink<'_> {
    type Output = ();

    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        self.try_extend(&[byte])
    }

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        let k = &mut *self.0;
        if k.len + data.len() <= BUF {
            k.buf[k.len..k.len + data.len()].copy_from_slice(data);
            k.len += data.len();
        } else {
            let h = k.spilled.get_or_insert_with(blake3::Hasher::new);
            h.update(&k.buf[..k.len]);
            h.update(data);
            k.len = 0;
        }
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
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

    fn reference(input: &Vec<String>) -> [u8; 32] {
        let bytes = postcard::to_allocvec(input).unwrap_or_else(|e| panic!("{e}"));
        let mut h = blake3::Hasher::new();
        h.update(KEY_DOMAIN);
        h.update(&4u64.to_le_bytes());
        h.update(b"name");
        h.update(&3u32.to_le_bytes());
        h.update(&bytes);
        *h.finalize().as_bytes()
    }

    proptest::proptest! {
        /// Streaming through the 128-byte buffer hashes exactly the encoded bytes, whatever
        /// the sizes of the pieces postcard pushes (empty, small, filling, spilling over).
        #[test]
        fn streaming_into_the_hasher_equals_hashing_the_encoded_bytes(
            input in proptest::collection::vec(".{0,120}", 0..40)
        ) {
            let key = content_key("name", 3, &input).unwrap_or_else(|e| panic!("{e}"));
            proptest::prop_assert_eq!(key, reference(&input));
        }
    }

    const GOLDEN: &str = "c81587a185c05fe191f88115ba084459e5dd354bdbd7a285b47ae726ed577c86";
}
