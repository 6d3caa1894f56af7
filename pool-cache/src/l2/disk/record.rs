//! The on-disk record: checksum, expiry and write sequence in front of the value.

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// Bytes in front of every value on disk: an xxh3 checksum of key and record (8), the expiry
/// in Unix milliseconds (8, `u64::MAX` for none) and the write sequence number (8).
pub const RECORD_HEADER_LEN: usize = 24;

/// Expiry of a record that never expires.
pub(crate) const NO_EXPIRY: u64 = u64::MAX;

/// A record that passed its checksum.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record<'a> {
    pub(crate) expires_ms: u64,
    pub(crate) value: &'a [u8],
}

/// The checksum binds the record to its key, so a record copied under another key is foreign.
fn checksum(key: &[u8], rest: &[u8]) -> u64 {
    xxh3_64_with_seed(rest, xxh3_64(key))
}

pub(crate) fn encode(key: &[u8], expires_ms: u64, seq: u64, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(RECORD_HEADER_LEN + value.len());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&expires_ms.to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(value);
    let sum = checksum(key, &out[8..]);
    out[..8].copy_from_slice(&sum.to_le_bytes());
    out
}

fn field(bytes: &[u8], at: usize) -> Option<u64> {
    bytes.get(at..at + 8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes)
}

/// The record under `key`, or `None` when it is torn, damaged or foreign.
pub(crate) fn decode<'a>(key: &[u8], bytes: &'a [u8]) -> Option<Record<'a>> {
    let sum = field(bytes, 0)?;
    let rest = bytes.get(8..)?;
    if rest.len() < RECORD_HEADER_LEN - 8 || checksum(key, rest) != sum {
        return None;
    }
    Some(Record { expires_ms: field(bytes, 8)?, value: &bytes[RECORD_HEADER_LEN..] })
}

/// The index position a record claims, read without trusting it (for clean-up only).
pub(crate) fn index_of(bytes: &[u8]) -> Option<(u64, u64)> {
    Some((field(bytes, 8)?, field(bytes, 16)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_damage_is_caught() {
        let rec = encode(b"key", 1234, 7, b"value");
        let back = decode(b"key", &rec).map(|r| (r.expires_ms, r.value.to_vec()));
        assert_eq!(back, Some((1234, b"value".to_vec())));
        assert_eq!(index_of(&rec), Some((1234, 7)));
        assert!(decode(b"other", &rec).is_none(), "bound to its key");
        for i in 0..rec.len() {
            let mut bad = rec.clone();
            bad[i] ^= 0x10;
            assert!(decode(b"key", &bad).is_none(), "flip at {i}");
        }
        for len in 0..rec.len() {
            assert!(decode(b"key", &rec[..len]).is_none(), "torn at {len}");
        }
    }
}
