//! The checks every backend runs on its input before touching storage.

use super::api::Put;
use super::error::{L2Error, L2ErrorKind};
use super::stats::Counters;
use std::time::Duration;

/// The largest value a backend accepts unless its builder says otherwise (16 MiB; Redis
/// itself takes up to 512 MiB, but values that size belong in a blob store).
/// ```
/// assert_eq!(pool_cache::DEFAULT_MAX_VALUE_SIZE, 16 << 20);
/// ```
pub const DEFAULT_MAX_VALUE_SIZE: usize = 16 << 20;

/// A time to live this long or longer stores a value without expiry (100 years: beyond any
/// cache's horizon, and well inside Redis's millisecond range and redb's `u64` milliseconds).
///
/// ```
/// assert!(pool_cache::MAX_TTL < std::time::Duration::MAX);
/// ```
pub const MAX_TTL: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// A TTL in whole milliseconds, rounded up; `None` for no expiry.
pub(crate) fn ttl_millis(ttl: Duration) -> Result<Option<u64>, L2Error> {
    if ttl.is_zero() {
        return Err(L2Error::new(
            L2ErrorKind::InvalidTtl,
            "l2 ttl must be > 0; delete the key instead of storing it for zero time",
        ));
    }
    if ttl >= MAX_TTL {
        return Ok(None);
    }
    // Below MAX_TTL the millisecond count fits a u64 with room to spare.
    let ms = ttl.as_nanos().div_ceil(1_000_000);
    Ok(Some(u64::try_from(ms).unwrap_or(u64::MAX)))
}

pub(crate) fn check_key(key: &[u8]) -> Result<(), L2Error> {
    if key.is_empty() {
        Err(L2Error::new(L2ErrorKind::InvalidKey, "l2 keys must not be empty"))
    } else {
        Ok(())
    }
}

pub(crate) fn check_keys(keys: &[&[u8]]) -> Result<(), L2Error> {
    keys.iter().try_for_each(|k| check_key(k))
}

pub(crate) fn check_prefix(prefix: &[u8]) -> Result<(), L2Error> {
    if prefix.is_empty() {
        Err(L2Error::new(
            L2ErrorKind::InvalidKey,
            "delete_prefix needs a non-empty prefix; an empty one would delete everything",
        ))
    } else {
        Ok(())
    }
}

/// Checks one write and returns its TTL in milliseconds (`None`: no expiry).
pub(crate) fn check_put(
    put: &Put<'_>,
    max_value: usize,
    counters: &Counters,
) -> Result<Option<u64>, L2Error> {
    check_key(put.key)?;
    if put.value.len() > max_value {
        counters.too_large();
        return Err(L2Error::too_large(put.value.len(), max_value));
    }
    ttl_millis(put.ttl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_rounds_up_and_saturates() {
        assert_eq!(ttl_millis(Duration::from_nanos(1)).ok(), Some(Some(1)));
        assert_eq!(ttl_millis(Duration::from_millis(5)).ok(), Some(Some(5)));
        assert_eq!(ttl_millis(Duration::MAX).ok(), Some(None));
        assert_eq!(ttl_millis(MAX_TTL).ok(), Some(None));
        assert_eq!(
            ttl_millis(Duration::ZERO).err().map(|e| e.kind()),
            Some(L2ErrorKind::InvalidTtl)
        );
    }
}
