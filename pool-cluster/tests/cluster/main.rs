//! pool-cluster's `cache` feature against real `redis-server`s started by pool-testkit
//! (loopback only; each test skips with a notice when redis-server is missing, unless
//! `POOL_REQUIRE_REDIS=1`).

// In tests a panic is the failure report; unwrap_err() names the expected error plainly.
#![allow(clippy::unwrap_used)]

mod bad_input;
mod conformance;
mod redis_cluster;
mod sharded;

use pool_cluster::{HealthConfig, ShardedL2};
use std::time::Duration;

/// Probes every 100 ms; two failures mark a node down, two successes bring it back.
pub(crate) fn fast_health() -> HealthConfig {
    HealthConfig::builder()
        .interval(Duration::from_millis(100))
        .probe_timeout(Duration::from_millis(150))
        .failure_threshold(2)
        .recovery_threshold(2)
        .build()
        .expect("valid health config")
}

pub(crate) const CALL_TIMEOUT: Duration = Duration::from_millis(500);

pub(crate) fn sharded(urls: &[String], r: usize) -> ShardedL2 {
    sharded_with(urls, r, CALL_TIMEOUT)
}

/// Bulk loads on a busy 2-core box need more than the 300 ms the failover tests use.
pub(crate) const BULK_TIMEOUT: Duration = Duration::from_secs(3);

pub(crate) fn sharded_with(urls: &[String], r: usize, timeout: Duration) -> ShardedL2 {
    urls.iter()
        .fold(ShardedL2::builder(), |b, u| b.redis_node(u.clone()))
        .replicas(r)
        .call_timeout(timeout)
        .health(fast_health())
        .build()
        .expect("valid sharded l2")
}

pub(crate) fn keys(range: std::ops::Range<usize>) -> Vec<Vec<u8>> {
    range.map(|i| format!("key:{i}").into_bytes()).collect()
}
