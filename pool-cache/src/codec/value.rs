//! [`ValueCodec`]: a [`Codec`] behind a versioned header, with lz4 above a size threshold.

use super::error::{CodecError, CodecErrorKind};
use super::format::{Codec, Postcard};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bodies larger than this many bytes are compressed with lz4 (when that makes them smaller).
/// What it costs, from `l2/lz4_round_trip` on the 2-core dev box (compress + decompress of
/// word-like serialized text): 2.0 µs to save 80 of 244 B, 7.5 µs to save 412 of 1010 B,
/// 27 µs to save 2 of 4 KB. Below about 1 KiB the saving is a few dozen bytes a value, not
/// worth microseconds on a path that otherwise costs hundreds of nanoseconds (`l2/codec`);
/// raise it where CPU is scarcer than bandwidth.
pub const DEFAULT_COMPRESS_THRESHOLD: usize = 1024;

/// A compressed value never decompresses to more than this (64 MiB), so a damaged or hostile
/// length field cannot make a reader allocate gigabytes.
pub const DEFAULT_MAX_DECODED_SIZE: usize = 64 << 20;

/// Bytes of header in front of every value: magic, format version, codec id, flags and the
/// user's type version (u32, little-endian).
pub const CODEC_HEADER_LEN: usize = 8;

const MAGIC: u8 = 0xB2;
const FORMAT_VERSION: u8 = 1;
const FLAG_LZ4: u8 = 1;
const KNOWN_FLAGS: u8 = FLAG_LZ4;

/// Encodes typed values into the bytes an [`L2`](crate::L2) stores, and back.
///
/// Every value starts with an 8-byte header: a magic byte, the format version, the codec's
/// [`ID`](Codec::ID), a flags byte (compressed or not) and the caller's type version. A
/// reader checks all of them: bytes written by another codec, another format or another
/// version of the type are refused with a typed error ([`decode`](Self::decode)) or read as a
/// miss and counted ([`read`](Self::read)), never decoded into garbage.
///
/// ```
/// use pool_cache::ValueCodec;
///
/// #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
/// struct User { id: u64, name: String }
///
/// let codec = ValueCodec::new().type_version(3);
/// let bytes = codec.encode(&User { id: 1, name: "Ada".into() })?;
/// assert_eq!(codec.read::<User>(&bytes), Some(User { id: 1, name: "Ada".into() }));
///
/// // A reader that expects version 4 of the type sees a miss, counted.
/// let newer = ValueCodec::new().type_version(4);
/// assert_eq!(newer.read::<User>(&bytes), None);
/// assert_eq!(newer.decode_errors(), 1);
/// # Ok::<(), pool_cache::CodecError>(())
/// ```
#[derive(Debug)]
pub struct ValueCodec<C: Codec = Postcard> {
    codec: C,
    type_version: u32,
    compress_above: Option<usize>,
    max_decoded: usize,
    errors: AtomicU64,
}

impl Default for ValueCodec<Postcard> {
    fn default() -> Self {
        Self::new()
    }
}

impl ValueCodec<Postcard> {
    /// Postcard, type version 0, lz4 above [`DEFAULT_COMPRESS_THRESHOLD`].
    ///
    /// ```
    /// let codec = pool_cache::ValueCodec::new();
    /// assert_eq!(codec.compress_threshold(), Some(pool_cache::DEFAULT_COMPRESS_THRESHOLD));
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::with_codec(Postcard)
    }
}

impl<C: Codec> ValueCodec<C> {
    /// The given codec, type version 0, lz4 above [`DEFAULT_COMPRESS_THRESHOLD`].
    ///
    /// ```
    /// let codec = pool_cache::ValueCodec::with_codec(pool_cache::Json);
    /// assert_eq!(codec.decode::<u8>(&codec.encode(&5u8)?)?, 5);
    /// # Ok::<(), pool_cache::CodecError>(())
    /// ```
    #[must_use]
    pub fn with_codec(codec: C) -> Self {
        Self {
            codec,
            type_version: 0,
            compress_above: Some(DEFAULT_COMPRESS_THRESHOLD),
            max_decoded: DEFAULT_MAX_DECODED_SIZE,
            errors: AtomicU64::new(0),
        }
    }

    /// The version of the caller's type, written into every header and required on read.
    /// Bump it when the type's serialized shape changes.
    ///
    /// ```
    /// assert_eq!(pool_cache::ValueCodec::new().type_version(2).version(), 2);
    /// ```
    #[must_use]
    pub fn type_version(mut self, version: u32) -> Self {
        self.type_version = version;
        self
    }

    /// Compress bodies larger than `threshold` bytes; `None` never compresses.
    ///
    /// ```
    /// let codec = pool_cache::ValueCodec::new().compress_above(None);
    /// assert_eq!(codec.compress_threshold(), None);
    /// ```
    #[must_use]
    pub fn compress_above(mut self, threshold: Option<usize>) -> Self {
        self.compress_above = threshold;
        self
    }

    /// The largest size a compressed body may claim to decompress to (default
    /// [`DEFAULT_MAX_DECODED_SIZE`]).
    ///
    /// ```
    /// let codec = pool_cache::ValueCodec::new().max_decoded_size(1 << 20);
    /// # let _ = codec;
    /// ```
    #[must_use]
    pub fn max_decoded_size(mut self, bytes: usize) -> Self {
        self.max_decoded = bytes;
        self
    }

    /// The type version this codec writes and expects.
    ///
    /// ```
    /// assert_eq!(pool_cache::ValueCodec::new().version(), 0);
    /// ```
    #[must_use]
    pub fn version(&self) -> u32 {
        self.type_version
    }

    /// The compression threshold, if compression is on.
    ///
    /// ```
    /// assert!(pool_cache::ValueCodec::new().compress_threshold().is_some());
    /// ```
    #[must_use]
    pub fn compress_threshold(&self) -> Option<usize> {
        self.compress_above
    }

    /// How many [`read`](Self::read)s found bytes they could not decode.
    ///
    /// ```
    /// let codec = pool_cache::ValueCodec::new();
    /// assert_eq!(codec.read::<u8>(b"junk"), None);
    /// assert_eq!(codec.decode_errors(), 1);
    /// ```
    #[must_use]
    pub fn decode_errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// Serializes `value` behind the header, compressed if it is over the threshold and lz4
    /// makes it smaller.
    ///
    /// # Errors
    ///
    /// [`CodecErrorKind::Encode`] when the codec cannot represent the value.
    ///
    /// ```
    /// let codec = pool_cache::ValueCodec::new();
    /// let bytes = codec.encode(&"a".repeat(10_000))?;
    /// assert!(bytes.len() < 1_000); // compressed
    /// assert_eq!(codec.decode::<String>(&bytes)?, "a".repeat(10_000));
    /// # Ok::<(), pool_cache::CodecError>(())
    /// ```
    pub fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&[MAGIC, FORMAT_VERSION, C::ID, 0]);
        out.extend_from_slice(&self.type_version.to_le_bytes());
        self.codec.encode(value, &mut out)?;
        let body_len = out.len() - CODEC_HEADER_LEN;
        if let (Some(threshold), Ok(len32)) = (self.compress_above, u32::try_from(body_len))
            && body_len > threshold
        {
            let packed = lz4_flex::block::compress(&out[CODEC_HEADER_LEN..]);
            if packed.len() + 4 < body_len {
                out.truncate(CODEC_HEADER_LEN);
                out[3] |= FLAG_LZ4;
                out.extend_from_slice(&len32.to_le_bytes());
                out.extend_from_slice(&packed);
            }
        }
        Ok(out)
    }

    /// Checks the header and deserializes the value.
    ///
    /// # Errors
    ///
    /// [`CodecErrorKind::Header`], `FormatVersion`, `CodecMismatch`, `TypeVersion`,
    /// `Decompress` or `Decode`: the bytes are not a value this codec wrote for this type
    /// version.
    ///
    /// ```
    /// use pool_cache::{CodecErrorKind, Json, ValueCodec};
    ///
    /// let bytes = ValueCodec::with_codec(Json).encode(&1u8)?;
    /// let err = ValueCodec::new().decode::<u8>(&bytes).unwrap_err();
    /// assert_eq!(err.kind(), CodecErrorKind::CodecMismatch { expected: 1, found: 2 });
    /// # Ok::<(), pool_cache::CodecError>(())
    /// ```
    pub fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, CodecError> {
        let body = self.check_header(bytes)?;
        if bytes[3] & FLAG_LZ4 == 0 {
            return self.codec.decode(body);
        }
        let (len, packed) = body.split_first_chunk::<4>().ok_or_else(|| {
            CodecError::new(CodecErrorKind::Decompress, "compressed value is truncated")
        })?;
        let len = u32::from_le_bytes(*len) as usize;
        if len > self.max_decoded {
            return Err(CodecError::new(
                CodecErrorKind::Decompress,
                format!(
                    "compressed value claims {len} bytes, over the limit of {}; raise max_decoded_size if it is genuine",
                    self.max_decoded
                ),
            ));
        }
        let plain = lz4_flex::block::decompress(packed, len).map_err(|e| {
            CodecError::with_source(
                CodecErrorKind::Decompress,
                format!("compressed value is damaged: {e}"),
                e,
            )
        })?;
        self.codec.decode(&plain)
    }

    /// [`decode`](Self::decode) for a cache read: bytes that do not decode are a miss, and
    /// are counted in [`decode_errors`](Self::decode_errors).
    ///
    /// ```
    /// let codec = pool_cache::ValueCodec::new();
    /// let bytes = codec.encode(&42u64)?;
    /// assert_eq!(codec.read::<u64>(&bytes), Some(42));
    /// assert_eq!(codec.read::<u64>(&bytes[..3]), None);
    /// # Ok::<(), pool_cache::CodecError>(())
    /// ```
    pub fn read<T: DeserializeOwned>(&self, bytes: &[u8]) -> Option<T> {
        match self.decode(bytes) {
            Ok(v) => Some(v),
            Err(_) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    fn check_header<'b>(&self, bytes: &'b [u8]) -> Result<&'b [u8], CodecError> {
        let Some((header, body)) = bytes.split_first_chunk::<CODEC_HEADER_LEN>() else {
            return Err(CodecError::new(
                CodecErrorKind::Header,
                format!(
                    "value of {} bytes is shorter than the {CODEC_HEADER_LEN}-byte header",
                    bytes.len()
                ),
            ));
        };
        if header[0] != MAGIC || header[3] & !KNOWN_FLAGS != 0 {
            return Err(CodecError::new(
                CodecErrorKind::Header,
                "value was not written by pool-cache's codec",
            ));
        }
        if header[1] != FORMAT_VERSION {
            return Err(CodecError::new(
                CodecErrorKind::FormatVersion { expected: FORMAT_VERSION, found: header[1] },
                format!(
                    "value has format version {}, this build reads {FORMAT_VERSION}",
                    header[1]
                ),
            ));
        }
        if header[2] != C::ID {
            return Err(CodecError::new(
                CodecErrorKind::CodecMismatch { expected: C::ID, found: header[2] },
                format!(
                    "value was written by codec {}, this reader uses codec {}",
                    header[2],
                    C::ID
                ),
            ));
        }
        let found = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if found != self.type_version {
            return Err(CodecError::new(
                CodecErrorKind::TypeVersion { expected: self.type_version, found },
                format!(
                    "value has type version {found}, this reader expects {}",
                    self.type_version
                ),
            ));
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Json;

    #[test]
    fn header_layout_is_pinned() {
        let bytes = ValueCodec::new().type_version(0x0102_0304).encode(&7u8).unwrap_or_default();
        assert_eq!(bytes, [MAGIC, 1, 1, 0, 4, 3, 2, 1, 7]);
    }

    #[test]
    fn small_values_stay_plain_and_large_ones_compress_only_when_smaller() {
        let codec = ValueCodec::new();
        let small = codec.encode(&"x".repeat(100)).unwrap_or_default();
        assert_eq!(small[3], 0);
        let repetitive = codec.encode(&"x".repeat(5000)).unwrap_or_default();
        assert_eq!(repetitive[3], FLAG_LZ4);
        // Incompressible bytes above the threshold are kept plain.
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let noise: Vec<u8> = (0..5000)
            .map(|_| {
                // xorshift64*: bytes with no structure for lz4 to find
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
            })
            .collect();
        let noisy = codec.encode(&noise).unwrap_or_default();
        assert_eq!(noisy[3], 0);
        assert_eq!(codec.decode::<Vec<u8>>(&noisy).ok(), Some(noise));
    }

    #[test]
    fn every_mismatch_is_typed() {
        let codec = ValueCodec::new();
        let good = codec.encode(&1u32).unwrap_or_default();
        let kind = |b: &[u8]| codec.decode::<u32>(b).err().map(|e| e.kind());
        let mut bad = good.clone();
        bad[0] = 0;
        assert_eq!(kind(&bad), Some(CodecErrorKind::Header));
        let mut bad = good.clone();
        bad[1] = 9;
        assert_eq!(kind(&bad), Some(CodecErrorKind::FormatVersion { expected: 1, found: 9 }));
        let mut bad = good.clone();
        bad[3] = 0x80;
        assert_eq!(kind(&bad), Some(CodecErrorKind::Header));
        let json = ValueCodec::with_codec(Json).encode(&1u32).unwrap_or_default();
        assert_eq!(kind(&json), Some(CodecErrorKind::CodecMismatch { expected: 1, found: 2 }));
        assert_eq!(kind(&good[..CODEC_HEADER_LEN]), Some(CodecErrorKind::Decode));
    }

    #[test]
    fn a_lying_length_is_refused_before_allocating() {
        let codec = ValueCodec::new().max_decoded_size(1000);
        let big = ValueCodec::new().encode(&"y".repeat(5000)).unwrap_or_default();
        assert_eq!(
            codec.decode::<String>(&big).err().map(|e| e.kind()),
            Some(CodecErrorKind::Decompress)
        );
        let mut damaged = big.clone();
        let last = damaged.len() - 1;
        damaged.truncate(last - 3);
        assert!(ValueCodec::new().decode::<String>(&damaged).is_err());
    }
}
