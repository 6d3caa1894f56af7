//! Durations as the cache stores them. The clock itself is [`pool_metrics::Clock`], shared with
//! `pool-core`.

use std::time::Duration;

/// Nanoseconds, saturating (`Duration::MAX` is "never").
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
